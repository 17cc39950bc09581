"""What a run reaches: the selected portals, and nothing older than ``since``.

Pure decisions, so the spider stays a thin adapter: whether an article link is
followed (its portal, its online id's age), and whether an article page is inside
the window (its own dates, read from the raw bytes like its links, or its id).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from newscrawl.dates import parse_timestamp
from newscrawl.onlineids import IdClock

# The page's own dates: schema.org JSON-LD and Open Graph article meta, the two the
# network writes in the <head>. Read from bytes: parsing the page here is what the
# spider avoids (links.py says why).
_JSON_LD_DATE = re.compile(rb'"date(?:Published|Modified)"\s*:\s*"([^"]{8,40})"')
_META_DATE = re.compile(
    rb"""<meta\s[^>]*?property\s*=\s*["']?article:(?:published|modified)_time["']?\s"""
    rb"""[^>]*?content\s*=\s*["']?([^"'\s>]{8,40})""",
    re.IGNORECASE,
)
_HEAD_BYTES = 256 * 1024
"""Where the dates are: the head, and the JSON-LD block right after it (the network's
pages put it before the body)."""

# Why a link is not followed: the reason is the stats key's last part.
OTHER_PORTAL = "other_portal"
TOO_OLD = "too_old"


def page_date(body: bytes) -> datetime | None:
    """The newest date the page states for itself (modified, else published), if any."""
    head = body[:_HEAD_BYTES]
    dates = [
        parse_timestamp(raw.decode("ascii", errors="replace"))
        for raw in (*_JSON_LD_DATE.findall(head), *_META_DATE.findall(head))
    ]
    known = [date for date in dates if date is not None]
    return max(known) if known else None


@dataclass(frozen=True)
class Scope:
    """One run's reach: ``domains`` to fetch (all selected portals) and its ``since``."""

    domains: frozenset[str]
    since: datetime | None
    clock: IdClock

    def link_refused(self, domain: str, online_id: str | None) -> str | None:
        """Why an article link on ``domain`` is not requested, or ``None`` to request it.

        ``online_id`` ``None``: the link's source dates it, and that date is the
        incremental middleware's to compare with ``since``, not the id.
        """
        if domain not in self.domains:
            return OTHER_PORTAL
        if online_id and self.since and self.clock.older_than(online_id, self.since):
            return TOO_OLD
        return None

    def page_outside(self, body: bytes, online_id: str | None) -> bool:
        """True when an article page is older than ``since``: its links are not followed.

        The page's own date decides; without one, the id's estimate, with the clock's
        margin (a page that cannot be dated either way counts as inside).
        """
        if self.since is None:
            return False
        date = page_date(body)
        if date is not None:
            return date < self.since
        return online_id is not None and self.clock.older_than(online_id, self.since)
