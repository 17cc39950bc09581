"""The progress extension's pure part: counts → the status line and the per-portal table.

No I/O: the extension (``extension.py``) gathers the counts, these functions say them.
"""

from __future__ import annotations

import io
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from newscrawl.output import write_table

OTHER = "other"
"""Where a response from a host outside the registry is counted (robots.txt redirects)."""
SITE_KEYS = {"new": "new", "updated": "updated", "unchanged": "unchanged",
             "duplicates": "duplicate", "failed": "failed"}  # fmt: skip
"""``PortalCounts`` field → the store's status in ``newscrawl/store/<status>/site/<d>``."""
SOURCE_KINDS = ("sitemap", "feed", "page")
"""The spider's ``newscrawl/source/<kind>`` counts of sources that answered."""


@dataclass(frozen=True)
class PortalCounts:
    fetched: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    rejected: int = 0
    failed: int = 0
    failed_sources: int = 0


@dataclass(frozen=True)
class Snapshot:
    """The crawl at one moment, as the status line shows it."""

    elapsed: float
    pages: int
    rate: float
    """Pages a second, over the last few seconds."""
    new: int
    updated: int
    queued: int | None
    """Requests in the scheduler; None when it cannot say (closed, Redis gone)."""
    portals: Mapping[str, PortalCounts]


# --- pure functions: counts → text ---------------------------------------------------------


def portal_counts(
    stats: Mapping[str, Any],
    fetched: Mapping[str, int],
    rejected: Mapping[str, int],
    order: Sequence[str] = (),
) -> dict[str, PortalCounts]:
    """Counts per portal: ``order`` first (the crawl's portals, even with nothing to show),
    then any other portal that has a count, alphabetically."""
    found: dict[str, dict[str, int]] = {}

    def add(domain: str, field: str, value: Any) -> None:
        found.setdefault(domain, {})[field] = found.get(domain, {}).get(field, 0) + int(value)

    for field, status in SITE_KEYS.items():
        prefix = f"newscrawl/store/{status}/site/"
        for key, value in stats.items():
            if key.startswith(prefix):
                add(key[len(prefix) :], field, value)
    prefix = "newscrawl/source/failed/site/"
    for key, value in stats.items():
        if key.startswith(prefix):
            add(key[len(prefix) :], "failed_sources", value)
    for domain, value in fetched.items():
        add(domain, "fetched", value)
    for domain, value in rejected.items():
        add(domain, "rejected", value)
    domains = list(dict.fromkeys(order)) + sorted(set(found) - set(order))
    return {domain: PortalCounts(**found.get(domain, {})) for domain in domains}


def sources_answered(stats: Mapping[str, Any]) -> int:
    """Sources that answered with something to read, of every kind."""
    return int(sum(stats.get(f"newscrawl/source/{kind}", 0) for kind in SOURCE_KINDS))


def format_elapsed(seconds: float) -> str:
    """``1:02:03``: hours, minutes, seconds, as people read a stopwatch."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def status_line(snapshot: Snapshot, busiest: int = 3) -> str:
    """One line: elapsed, pages and rate, stories stored, queue, the busiest portals."""
    parts = [
        format_elapsed(snapshot.elapsed),
        f"{snapshot.pages} pages ({snapshot.rate:.1f}/s)",
        f"stories {snapshot.new} new, {snapshot.updated} updated",
    ]
    if snapshot.queued is not None:
        parts.append(f"{snapshot.queued} queued")
    active = [(domain, c) for domain, c in snapshot.portals.items() if c.fetched]
    active.sort(key=lambda entry: (-entry[1].fetched, entry[0]))
    if active and busiest > 0:
        shown = ", ".join(f"{domain} {c.fetched} ({c.new} new)" for domain, c in active[:busiest])
        more = len(active) - busiest
        parts.append(shown + (f", +{more} more" if more > 0 else ""))
    return " | ".join(parts)


TABLE_COLUMNS = ("portal", "fetched", "new", "updated", "unchanged", "duplicates", "rejected",
                 "failed", "failed sources")  # fmt: skip


def portal_table(portals: Mapping[str, PortalCounts]) -> str:
    """The end-of-crawl table, one row per portal and a total, as ``scrapy articles`` prints
    tables (``output.write_table``)."""
    names = [f.name for f in fields(PortalCounts)]
    rows = [{"portal": domain, **_row(counts, names)} for domain, counts in portals.items()]
    totals = {name: sum(getattr(c, name) for c in portals.values()) for name in names}
    rows.append({"portal": "total", **_row(PortalCounts(**totals), names)})
    out = io.StringIO()
    write_table(rows, TABLE_COLUMNS, out)
    return out.getvalue().rstrip("\n")


def _row(counts: PortalCounts, names: Iterable[str]) -> dict[str, int]:
    return {name.replace("_", " "): getattr(counts, name) for name in names}


class RateMeter:
    """Pages a second over the last ``samples`` observations (a sliding window)."""

    def __init__(self, samples: int) -> None:
        self._samples: deque[tuple[float, int]] = deque(maxlen=max(2, samples))

    def add(self, now: float, pages: int) -> float:
        self._samples.append((now, pages))
        (first, before), (last, after) = self._samples[0], self._samples[-1]
        return (after - before) / (last - first) if last > first else 0.0
