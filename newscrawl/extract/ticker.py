"""Live tickers: the entries of a story, each with its time and chapter, and the story's type.

A ticker of the network is an ordinary story whose paragraphs open with a stamp in bold:
``Update, 21:32 Uhr:``, ``Update, 15.55 Uhr:``, ``Update, 25. Oktober, 6:10 Uhr:``, and
last (oldest) ``Erstmeldung:``. An entry runs on over the following paragraphs until the
next stamp or chapter heading. Entries stand newest first, and most stamps give a clock
time only: the day is carried over from the next newer entry that names one (or from the
page's modification time) and steps back a day whenever the clock time goes up.
Written by hand: no library knows these stamps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from newscrawl.extract.times import MONTHS, NETWORK_TZ

_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY = r"(?:Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag)"
_DATE = (
    rf"(?:{_WEEKDAY},?\s*)?(?P<day>\d{{1,2}})\.\s*"
    rf"(?:(?P<month_name>{_MONTH_NAMES})|(?P<month>\d{{1,2}})\.)"
    r"(?:\s*(?P<year>\d{4}))?"
)
_CLOCK = r"(?P<hour>\d{1,2})[:.](?P<minute>\d{2})\s*Uhr"
STAMP = re.compile(
    rf"""^(?:
        (?P<first>Erstmeldung)(?:\s*(?:vom|,)?\s*{_DATE})?(?:\s*,?\s*(?:um\s+)?{_CLOCK})?\s*(?::|$)
      | Update(?:\s*(?:vom|am|,)?\s*(?:{_DATE.replace("?P<", "?P<u_")}))?
        \s*,?\s*(?:um\s+)?{_CLOCK.replace("?P<", "?P<u_")}\s*:?
    )\s*""",
    re.VERBOSE | re.IGNORECASE,
)
# Story types of JSON-LD and the dataLayer that name a live ticker.
_LIVE_TYPES = frozenset({"LiveBlogPosting"})
_LIVE_WORDS = re.compile(r"ticker|live", re.I)
# JSON-LD types that say no more than "article".
_PLAIN_TYPES = frozenset({"Article", "NewsArticle", "Report", "BlogPosting"})
MIN_ENTRIES = 2
"""Stamped paragraphs that make a story a ticker without its JSON-LD saying so: one
"Update" under an ordinary article is a correction, not a ticker."""


@dataclass(frozen=True)
class Stamp:
    """What an entry's opening stamp says; None where it says nothing."""

    first: bool = False
    day: int | None = None
    month: int | None = None
    year: int | None = None
    clock: time | None = None


@dataclass
class Entry:
    stamp: Stamp
    headline: str | None
    paragraphs: list[str] = field(default_factory=list)


def parse_stamp(paragraph: str) -> tuple[Stamp, str] | None:
    """The stamp a paragraph opens with and the rest of it; None for a plain paragraph."""
    # The test before the regex: nearly every paragraph fails it, at a tenth of the cost.
    if not paragraph[:11].lower().startswith(("update", "erstmeldung")):
        return None
    match = STAMP.match(paragraph)
    if match is None:
        return None
    g = {k.removeprefix("u_"): v for k, v in match.groupdict().items() if v is not None}
    month = MONTHS.get(g["month_name"].casefold()) if "month_name" in g else _int(g, "month")
    clock = None
    if "hour" in g:
        hour, minute = int(g["hour"]), int(g["minute"])
        if hour > 23 or minute > 59:
            return None
        clock = time(hour, minute)
    stamp = Stamp("first" in g, _int(g, "day"), month, _int(g, "year"), clock)
    return stamp, paragraph[match.end() :]


def group_entries(blocks: list[tuple[bool, str]]) -> list[Entry]:
    """Entries from the body's blocks in page order, ``(is_chapter_heading, text)``.

    A paragraph before the first stamp of its chapter belongs to no entry (the intro).
    """
    entries: list[Entry] = []
    headline: str | None = None
    current: Entry | None = None
    for is_heading, text in blocks:
        if is_heading:
            headline, current = text, None
            continue
        found = parse_stamp(text)
        if found is not None:
            stamp, rest = found
            current = Entry(stamp, headline, [rest] if rest else [])
            entries.append(current)
        elif current is not None:
            current.paragraphs.append(text)
    return entries


def date_entries(
    entries: list[Entry], modified: datetime | None, published: datetime | None
) -> list[dict[str, Any]]:
    """``{"time", "headline", "text"}`` per entry, newest first, times ISO 8601 with offset.

    The day of a clock-only stamp is the day of the next newer entry (the page's
    modification day for the newest), one day earlier when its clock time is later than
    that entry's; a date without a year is in the year that puts it on or before the
    modification day. ``Erstmeldung:`` without a time is the publication time, unless that
    is later than the entries above it (the CMS renews it when a story is republished).
    """
    reference = (modified or published).astimezone(NETWORK_TZ) if modified or published else None
    day = reference.date() if reference else None
    last_clock = reference.time().replace(second=0, microsecond=0) if reference else None
    newer: datetime | None = None  # the time of the newest entry above that has one
    out: list[dict[str, Any]] = []
    for entry in entries:
        stamp, at = entry.stamp, None
        if stamp.day is not None and stamp.month is not None:
            day = _dated(stamp, reference)
        elif day is not None and stamp.clock and last_clock and stamp.clock > last_clock:
            day -= timedelta(days=1)
        if stamp.clock is not None and day is not None:
            at = datetime.combine(day, stamp.clock, NETWORK_TZ)
            last_clock = stamp.clock
        elif stamp.first and published is not None and (newer is None or published <= newer):
            at = published  # unless the CMS moved the publication after the updates
        newer = at or newer
        out.append(
            {
                "time": at.isoformat() if at else None,
                "headline": entry.headline,
                "text": "\n\n".join(entry.paragraphs),
            }
        )
    return out


def read_ticker(
    blocks: list[tuple[bool, str]],
    modified: datetime | None,
    published: datetime | None,
    live: bool,
) -> list[dict[str, Any]]:
    """The ticker entries of a story, or [] for a story that is no ticker.

    ``live``: the page's structured data calls it a live ticker; otherwise it takes
    :data:`MIN_ENTRIES` stamped paragraphs.
    """
    entries = group_entries(blocks)
    if not entries or (not live and len(entries) < MIN_ENTRIES):
        return []
    return date_entries(entries, modified, published)


def is_live(schema_types: frozenset[str], layer_type: str | None) -> bool:
    """Whether JSON-LD or the dataLayer calls the story a live ticker."""
    return bool(schema_types & _LIVE_TYPES) or bool(layer_type and _LIVE_WORDS.search(layer_type))


def story_type(schema_types: frozenset[str], layer_type: str | None, has_ticker: bool) -> str:
    """``ticker`` for a live ticker; else what the dataLayer or JSON-LD names more exactly
    than "article" (``gallery``, ``OpinionNewsArticle``); else ``article``."""
    if has_ticker or is_live(schema_types, layer_type):
        return "ticker"
    if layer_type and layer_type.casefold() not in ("article", "story", "news"):
        return layer_type
    special = sorted(schema_types - _PLAIN_TYPES)
    return special[0] if special else "article"


def _dated(stamp: Stamp, reference: datetime | None) -> date | None:
    assert stamp.day is not None and stamp.month is not None
    year = stamp.year or (reference.year if reference else None)
    if year is None:
        return None
    try:
        day = date(year, stamp.month, stamp.day)
        if stamp.year is None and reference is not None and day > reference.date():
            day = date(year - 1, stamp.month, stamp.day)  # "30. Dezember" seen in January
    except ValueError:  # 31. Februar
        return None
    return day


def _int(groups: dict[str, str], key: str) -> int | None:
    return int(groups[key]) if key in groups else None
