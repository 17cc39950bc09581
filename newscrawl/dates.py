"""Dates as sources write them, and the ``since`` argument as people write it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

_DURATION = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$", re.I)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_timestamp(value: str | None) -> datetime | None:
    """An aware datetime from ISO 8601 (sitemaps, JSON-LD, dc:date) or RFC 822 (RSS pubDate).

    A date without a time zone is taken as UTC; what cannot be read is ``None``,
    because a source's bad date must not cost the article.
    """
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """``-a since=``: an ISO date or datetime, or a duration back from now (``6h``, ``2d``)."""
    match = _DURATION.match(value)
    if match:
        amount, unit = int(match.group(1)), _UNITS[match.group(2).lower()]
        return (now or datetime.now(UTC)) - timedelta(**{unit: amount})
    parsed = parse_timestamp(value)
    if parsed is None:
        raise ValueError(
            f"since={value!r} is neither an ISO date (2024-04-26) nor a duration (6h, 2d)"
        )
    return parsed
