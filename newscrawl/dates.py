"""Dates: one parser for every date the network gives, and ``since`` as people write it.

The one time rule: a time the network writes without an offset (sitemaps, feeds,
JSON-LD, meta tags, HTTP headers) is the network's own, Europe/Berlin; every parsed
time is returned in UTC, which is how the store keeps it. Dates people type
(``-a since=``, ``--until``) are UTC unless they carry an offset, as the README says.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

NETWORK_ZONE = ZoneInfo("Europe/Berlin")
"""Where the network's portals are: the zone of a time given without an offset."""
_DURATION = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$", re.I)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_timestamp(value: str | None, naive_zone: tzinfo = NETWORK_ZONE) -> datetime | None:
    """A UTC datetime from ISO 8601 (sitemaps, JSON-LD, meta tags, dc:date) or RFC 822
    (RSS pubDate, HTTP headers).

    A time without an offset is in ``naive_zone`` (the network's, Europe/Berlin); what
    cannot be read is ``None``, because a source's bad date must not cost the article.
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
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=naive_zone)
    return parsed.astimezone(UTC)


def parse_user_time(value: str) -> datetime | None:
    """A date or time a person typed: ``parse_timestamp`` with UTC for no offset."""
    return parse_timestamp(value, naive_zone=UTC)


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """``-a since=``: an ISO date or datetime, or a duration back from now (``6h``, ``2d``)."""
    match = _DURATION.match(value)
    if match:
        amount, unit = int(match.group(1)), _UNITS[match.group(2).lower()]
        return (now or datetime.now(UTC)) - timedelta(**{unit: amount})
    parsed = parse_user_time(value)
    if parsed is None:
        raise ValueError(
            f"since={value!r} is neither an ISO date (2024-04-26) nor a duration (6h, 2d)"
        )
    return parsed
