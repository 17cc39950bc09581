"""Progress people can read: a live status line on a terminal, a progress line in the log
under cron, and a per-portal table at the end of every crawl.

Scrapy's own ``LogStats`` line says pages and items a minute; an operator wants to know
what the crawl *stored*, how much is still queued, and which portal is busy or silent.

* On a terminal (stderr is a TTY) one status line redraws in place every
  ``NEWSCRAWL_PROGRESS_REFRESH`` seconds, through rich's ``Live``. Scrapy's log keeps
  going to the terminal, printed *through* the live display (its handler's stream is the
  live console while the line is shown), so a log record is never cut by a redraw.
* Otherwise (cron, a pipe, ``LOG_FILE``) the same line is logged every
  ``NEWSCRAWL_PROGRESS_SECONDS``. It replaces ``LogStats`` (disabled in settings.py): it
  carries the same pages and rate, and two lines a minute saying the same is noise.
* At ``spider_closed`` (before the stats dump and the crawl command's summary line) a table
  per portal: pages fetched, stories new / updated / unchanged / duplicate, pages rejected
  (not an article), items the store failed, sources that failed.

Where the counts come from: pages fetched and pages rejected are counted here (Scrapy's
``response_downloaded`` and ``item_dropped`` signals); the store's outcomes and failed
sources from per-portal stats keys the store and the spider set:
``newscrawl/store/<status>/site/<domain>`` and ``newscrawl/source/failed/site/<domain>``.
The store writes in batches, so stored counts lag pages by up to
``NEWSCRAWL_STORE_FLUSH_SECONDS``.
"""

from __future__ import annotations

import atexit
import io
import logging
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from itemadapter import ItemAdapter
from rich.console import Console
from rich.live import Live
from rich.text import Text
from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Request, Response
from scrapy.utils.asyncio import create_looping_call
from scrapy.utils.log import get_scrapy_root_handler

from newscrawl.output import write_table

logger = logging.getLogger(__name__)

OTHER = "other"
"""Where a response from a host outside the registry is counted (robots.txt redirects)."""
SITE_KEYS = {"new": "new", "updated": "updated", "unchanged": "unchanged",
             "duplicates": "duplicate", "failed": "failed"}  # fmt: skip
"""``PortalCounts`` field → the store's status in ``newscrawl/store/<status>/site/<d>``."""


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


# --- the extension ---------------------------------------------------------------------------


class CrawlProgress:
    """Scrapy extension: live line or periodic log line while crawling, table at the end."""

    def __init__(
        self, crawler: Crawler, live: bool, refresh: float, period: float, busiest: int
    ) -> None:
        self.crawler = crawler
        self.live_wanted = live
        self.refresh = refresh
        self.period = period
        self.busiest = busiest
        self.fetched: Counter[str] = Counter()
        self.rejected: Counter[str] = Counter()
        self.started = time.monotonic()
        self.network: Any = None
        self.order: list[str] = []
        self.display: LiveLine | None = None
        self.loops: list[Any] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlProgress:
        settings = crawler.settings
        extension = cls(
            crawler,
            live=settings.getbool("NEWSCRAWL_PROGRESS_LIVE", True),
            refresh=settings.getfloat("NEWSCRAWL_PROGRESS_REFRESH", 1.0),
            period=settings.getfloat("NEWSCRAWL_PROGRESS_SECONDS", 60.0),
            busiest=settings.getint("NEWSCRAWL_PROGRESS_PORTALS", 3),
        )
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(extension.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(extension.item_dropped, signal=signals.item_dropped)
        return extension

    # --- signals -----------------------------------------------------------------------------
    def spider_opened(self, spider: Spider) -> None:
        self.started = time.monotonic()
        self.network = getattr(spider, "network", None)
        self.order = list(getattr(spider, "site_domains", []))
        if self.live_wanted and self.refresh > 0:
            self.display = LiveLine.start()
        if self.display is not None:
            meter = RateMeter(int(10 / self.refresh) + 1)  # the last ten seconds
            self._every(self.refresh, lambda: self.display and self.display.show(self._line(meter)))
        # The log gets the line when nobody sees the live one: no terminal, or LOG_FILE.
        if self.period > 0 and (self.display is None or not self.display.carries_log):
            meter = RateMeter(2)  # since the previous line
            meter.add(time.monotonic(), 0)
            self._every(self.period, lambda: logger.info("Progress: %s", self._line(meter)), False)

    def response_downloaded(self, response: Response, request: Request, spider: Spider) -> None:
        site = self.network.site_for(response.url) if self.network is not None else None
        self.fetched[site.domain if site is not None else OTHER] += 1

    def item_dropped(self, item: Any, response: Any, exception: BaseException, spider: Any) -> None:
        try:
            site = ItemAdapter(item).get("site")
        except TypeError:  # not an item type this project knows
            return
        self.rejected[site or OTHER] += 1

    def spider_closed(self, spider: Spider, reason: str) -> None:
        for loop in self.loops:
            if loop.running:
                loop.stop()
        if self.display is not None:
            self.display.stop()
            self.display = None
        portals = portal_counts(self._stats(), self.fetched, self.rejected, self.order)
        logger.info("Per-portal report:\n%s", portal_table(portals))

    # --- helpers -----------------------------------------------------------------------------
    def _every(self, seconds: float, call: Any, now: bool = True) -> None:
        loop = create_looping_call(call)
        loop.start(seconds, now=now)
        self.loops.append(loop)

    def _stats(self) -> dict[str, Any]:
        # A copy: the store's writer thread adds keys while we read (dict() of a dict is
        # one step under the GIL; iterating the live dict could fail mid-way).
        return dict(self.crawler.stats.get_stats())

    def _line(self, meter: RateMeter) -> str:
        stats = self._stats()
        pages = sum(self.fetched.values())
        snapshot = Snapshot(
            elapsed=time.monotonic() - self.started,
            pages=pages,
            rate=meter.add(time.monotonic(), pages),
            new=int(stats.get("newscrawl/store/new", 0)),
            updated=int(stats.get("newscrawl/store/updated", 0)),
            queued=self._queued(),
            portals=portal_counts(stats, self.fetched, self.rejected, self.order),
        )
        return status_line(snapshot, self.busiest)

    def _queued(self) -> int | None:
        engine = self.crawler.engine
        scheduler = engine.scheduler if engine is not None else None
        try:
            return len(scheduler) if scheduler is not None else None  # type: ignore[arg-type]
        except Exception:  # a closed queue, Redis gone: the line goes on without it
            return None


class LiveLine:
    """The status line at the bottom of the terminal (rich ``Live``), with Scrapy's log
    printed above it: its root handler writes to the live console while the line shows."""

    def __init__(self, live: Any, handler: logging.StreamHandler[Any] | None, stream: Any) -> None:
        self.live = live
        self.handler = handler
        self.previous_stream = stream

    @property
    def carries_log(self) -> bool:
        return self.handler is not None

    @classmethod
    def start(cls) -> LiveLine | None:
        """Start on an interactive terminal; None elsewhere (or a dumb terminal)."""
        console = Console(file=sys.stderr)
        if not console.is_interactive:
            return None
        live = Live(console=console, auto_refresh=False, transient=True,
                    redirect_stdout=False, redirect_stderr=True)  # fmt: skip
        live.start()
        # Keep the cursor: a crawl killed with -9 must not leave the terminal without one.
        console.show_cursor(True)
        handler, stream = get_scrapy_root_handler(), None
        if _writes_to(handler, console.file):
            stream = handler.setStream(_ConsoleStream(console))  # type: ignore[union-attr]
        else:
            handler = None
        line = cls(live, handler, stream)  # type: ignore[arg-type]
        atexit.register(line.stop)  # a second Ctrl-C stops the reactor without spider_closed
        return line

    def show(self, text: str) -> None:
        self.live.update(Text(text, no_wrap=True, overflow="ellipsis"), refresh=True)

    def stop(self) -> None:
        if self.live.is_started:
            self.live.stop()
        if self.handler is not None:
            self.handler.setStream(self.previous_stream)
            self.handler = None


def _writes_to(handler: logging.Handler | None, terminal: Any) -> bool:
    """Is ``handler`` Scrapy's stream handler on the terminal the live line is drawn on?"""
    if not isinstance(handler, logging.StreamHandler) or isinstance(handler, logging.FileHandler):
        return False
    try:
        return handler.stream.fileno() == terminal.fileno()
    except (AttributeError, OSError, ValueError):
        return False


class _ConsoleStream(io.TextIOBase):
    """A text stream printing whole lines through the live console, above the live line.

    Not rich's own ``FileProxy``: that wraps long lines at the terminal's width with hard
    line breaks, and a URL broken in two cannot be copied; here the terminal wraps them.
    """

    def __init__(self, console: Any) -> None:
        super().__init__()
        self._console = console
        self._buffer = ""
        self._lock = threading.Lock()  # the store's and extract's threads log too

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self._lock:
            self._buffer += text
            if "\n" in self._buffer:
                lines, _, self._buffer = self._buffer.rpartition("\n")
                self._console.print(Text(lines), soft_wrap=True, highlight=False)
        return len(text)
