"""The page's own times, to the second: when the story was published and last changed.

Tiers, most exact first: JSON-LD, the Ippen dataLayer, ``article:*`` meta tags, then
the time stamp the page displays ("Stand: 25.10.2025, 21:42 Uhr"). Only when all of
them are silent does ``extract/__init__.py`` fall back to trafilatura's guess, which is
often a day without a time. A time the page gives without offset is Berlin time.
Written by hand: the stamp's German spelling and the dataLayer are the network's own.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import lxml.etree
import lxml.html

from newscrawl.extract.furniture import normalize_space

NETWORK_TZ = ZoneInfo("Europe/Berlin")
"""The network is German; a date without offset is local time there."""

MONTHS: dict[str, int] = {
    name: number
    for number, names in enumerate(
        (("januar", "jänner"), ("februar",), ("märz", "maerz"), ("april",), ("mai",),
         ("juni",), ("juli",), ("august",), ("september",), ("oktober",), ("november",),
         ("dezember",)),
        start=1,
    )
    for name in names
}  # fmt: skip

# dataLayer keys (without "de.ippen-digital.") that may carry the story's times: none of
# the fixture pages has one, so the names are matched by what they say, not listed.
_LAYER_PUBLISHED = re.compile(r"^story\.\w*(?:publi|created)\w*$", re.I)
_LAYER_MODIFIED = re.compile(r"^story\.\w*(?:modif|update|lastchange)\w*$", re.I)
# "25.10.2025, 21:42 Uhr", "25.10.2025 um 21.42 Uhr", "25.10.2025 21:42:05"
_DISPLAYED = re.compile(
    r"(?P<day>\d{1,2})\.\s*(?P<month>\d{1,2})\.\s*(?P<year>\d{4})\s*,?\s*(?:um\s+)?"
    r"(?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?::(?P<second>\d{2}))?"
)
_PUBLISHED_LABELS = ("erstellt", "veröffentlicht", "publiziert")
# Every <time>, then its ancestors in Python: a contains() on every element's class
# cost five times as much.
_TIMES = lxml.etree.XPath(".//time")
_STAMP_DEPTH = 3


def parse_date(value: Any) -> datetime | None:
    """ISO 8601 (or epoch milliseconds) as an aware datetime; None when unreadable."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 1e11:
        return datetime.fromtimestamp(value / 1000, NETWORK_TZ)
    if not isinstance(value, str):
        return None
    text = normalize_space(value)
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=NETWORK_TZ)


def parse_displayed(text: str) -> datetime | None:
    """A German date and time as pages show them ("25.10.2025, 21:42 Uhr"), Berlin time."""
    match = _DISPLAYED.search(text)
    if match is None:
        return None
    parts = {k: int(v) for k, v in match.groupdict().items() if v is not None}
    try:
        return datetime(
            parts["year"], parts["month"], parts["day"], parts["hour"], parts["minute"],
            parts.get("second", 0), tzinfo=NETWORK_TZ,
        )  # fmt: skip
    except ValueError:  # 31.02., 25:00
        return None


def displayed_stamps(root: lxml.html.HtmlElement) -> list[tuple[str, datetime]]:
    """The story's visible time stamps as (label, time): ``("stand", ...)``, ``("erstellt", ...)``.

    The label is the text before the ``<time>`` ("Stand: ", "Erstellt: "), lowercased
    and without its colon; the time is its ``datetime`` attribute, else its text.
    """
    stamps: list[tuple[str, datetime]] = []
    for time_el in _TIMES(root):
        if not _in_stamp(time_el):
            continue
        at = parse_date(time_el.get("datetime")) or parse_displayed(time_el.text_content())
        if at is None:
            continue
        parent = time_el.getparent()
        before = (parent.text or "") if parent is not None else ""
        if parent is not None:
            for sibling in parent:
                if sibling is time_el:
                    break
                before += sibling.text_content() + (sibling.tail or "")
        stamps.append((normalize_space(before).rstrip(": ").casefold(), at))
    return stamps


def _in_stamp(time_el: lxml.html.HtmlElement) -> bool:
    for depth, ancestor in enumerate(time_el.iterancestors()):
        if depth == _STAMP_DEPTH:
            return False
        if "id-Story-timestamp" in (ancestor.get("class") or ""):
            return True
    return False


def layer_times(layer: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    """(published, modified) from the dataLayer's ``story.*`` keys, where it has them."""
    published = modified = None
    for key, value in layer.items():
        if published is None and _LAYER_PUBLISHED.match(key):
            published = parse_date(value)
        elif modified is None and _LAYER_MODIFIED.match(key):
            modified = parse_date(value)
    return published, modified


def with_stamps(
    published: datetime | None, modified: datetime | None, stamps: list[tuple[str, datetime]]
) -> tuple[datetime | None, datetime | None]:
    """The structured times, completed from the displayed stamps where they are missing.

    A stamp labelled "Erstellt" is the publication; any other ("Stand", "Aktualisiert")
    is the last change, and the publication too when the page states nothing else (the
    CMS shows "Stand" with the publication time until the story changes). A "Stand"
    equal to the publication is no change: ``modified`` stays None then.
    """
    created = [t for label, t in stamps if label.startswith(_PUBLISHED_LABELS)]
    changed = [t for label, t in stamps if not label.startswith(_PUBLISHED_LABELS)]
    if published is None:
        published = next(iter(created or changed), None)
    if modified is None and changed and (published is None or changed[-1] > published):
        modified = changed[-1]
    return published, modified
