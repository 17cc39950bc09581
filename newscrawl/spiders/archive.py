"""``scrapy crawl ippen-archive -a warc=PATH[,PATH...]``: import archived pages, offline.

Why a spider whose ``start()`` yields items (Scrapy >= 2.13 sends items from ``start()``
straight to the item pipelines) and not a downloader handler for a ``warc:`` scheme:
nothing here is to be downloaded. A handler would push every record through the
scheduler, the duplicate filter, the downloader slots, AutoThrottle and the spider
middlewares as a request, costing crawl-process CPU that a backfill needs for feeding
the extraction workers, for no gain. The items are the live crawl's
(``IppenSpider.parse_article`` builds them from a Scrapy response made of the record),
so extraction on all cores, dedup, dead letters, the summary line and exit statuses
are the live crawl's too, and the network is never touched: no request is made.

Records are read in a thread (fastwarc decompresses outside the GIL) a chunk at a
time; at most ``NEWSCRAWL_ARCHIVE_IN_FLIGHT`` items wait in the pipelines, so memory
does not grow with the archive. ``-a sites=`` selects portals, ``-a since=``/``until=``
the fetch time (``WARC-Date``); progress is logged every
``NEWSCRAWL_ARCHIVE_PROGRESS_SECONDS``; with ``JOBDIR`` a run resumes per file
(``newscrawl/archive/checkpoint.py``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any, ClassVar

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider
from scrapy.http import Headers, TextResponse
from scrapy.responsetypes import responsetypes
from twisted.internet import task

from newscrawl.archive.checkpoint import Checkpoints, InFlight, Position
from newscrawl.archive.reader import ArchivedResponse, expand_paths, read_responses
from newscrawl.archive.select import Redirects, skip_reason
from newscrawl.dates import parse_since
from newscrawl.items import ArticleItem
from newscrawl.spiders.ippen import ARTICLE, IppenSpider

STATS = "newscrawl/archive"
CHUNK = 32  # records a thread hop reads: enough to make the hop cheap, few enough to stream


Window = tuple[datetime | None, datetime | None]


def check_arguments(arguments: dict[str, Any]) -> tuple[list[Path], *Window]:
    """(files, since, until) of the spider's ``-a`` arguments; ValueError says what is wrong."""
    if not arguments.get("warc"):
        raise ValueError("ippen-archive needs the archives: -a warc=PATH[,PATH...]")
    files = expand_paths(arguments["warc"])
    since, until = (
        parse_since(arguments[name]) if arguments.get(name) else None for name in ("since", "until")
    )
    return files, since, until


class ArchiveSpider(IppenSpider):
    """``scrapy crawl ippen-archive -a warc=PATH[,PATH...] [-a sites=] [-a since=] [-a until=]``"""

    name = "ippen-archive"
    # Its window is the records' WARC-Date (-a since=/until=, read by the reader), not the
    # stories' age: no run window from the store, and nothing dropped for its publication date.
    keeps_run_arguments: ClassVar[bool] = False
    window_start = None

    files: list[Path]
    # Not ``since``/``until``: Scrapy sets the -a arguments as attributes of those names,
    # and the incremental middleware reads ``since`` as given.
    window: Window

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> ArchiveSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.argument_error = None
        try:
            spider.files, *window = check_arguments(kwargs)
            spider.window = (window[0], window[1])
        except ValueError as exc:
            spider.argument_error = str(exc)
            spider.files, spider.window = [], (None, None)
        settings = crawler.settings
        spider.in_flight_limit = max(1, settings.getint("NEWSCRAWL_ARCHIVE_IN_FLIGHT", 64))
        spider.progress_seconds = settings.getfloat("NEWSCRAWL_ARCHIVE_PROGRESS_SECONDS", 30.0)
        jobdir = settings.get("JOBDIR")
        spider.checkpoints = Checkpoints(Path(jobdir)) if jobdir else None
        spider.in_flight = InFlight()
        spider.redirects = Redirects(spider.network)
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(spider._item_finished, signal=signal)
        crawler.signals.connect(spider._save_checkpoint, signal=signals.spider_closed)
        return spider

    # --- reading -----------------------------------------------------------------------

    async def start(self) -> AsyncIterator[ArticleItem]:
        if self.argument_error:
            self.logger.error("newscrawl: error: %s", self.argument_error)
            raise CloseSpider("bad_arguments")
        self._selected = frozenset(self.site_domains)
        self._resume = self.checkpoints.load() if self.checkpoints else {}
        self._drained = asyncio.Event()
        self._progress = _Progress(self, [path.stat().st_size for path in self.files])
        self._lagging: dict[Path, Position] = {}
        ticker = task.LoopingCall(self._tick)
        ticker.start(self.progress_seconds, now=False)
        try:
            for number, path in enumerate(self.files):
                self._progress.file(number)
                async for item in self._items_of(path):
                    yield item
            self._progress.file(len(self.files))
        finally:
            ticker.stop()
        self._progress.log()

    async def _items_of(self, path: Path) -> AsyncIterator[ArticleItem]:
        stats = self.crawler.stats
        resume = self._resume.get(path, Position())
        if resume.done:
            self.logger.info("Already imported (checkpoint): %s", path)
            stats.inc_value(f"{STATS}/files_done_before")
            return
        records = read_responses(path, resume.offset)
        while True:
            try:
                chunk = await asyncio.to_thread(_take, records, CHUNK)
            except (OSError, ValueError) as exc:
                self.logger.error("Cannot read WARC file %s: %s", path, exc)
                stats.inc_value(f"{STATS}/failed_files")
                return
            if not chunk:
                break
            for record in chunk:
                if resume.after and record.offset == resume.offset:
                    continue
                item = self._item_of(record)
                self._progress.record(record.offset)
                if item is None:
                    self.in_flight.skipped(path, record.offset)
                    continue
                while len(self.in_flight) >= self.in_flight_limit:
                    self._drained.clear()
                    await self._drained.wait()
                self.in_flight.sent(id(item), path, record.offset)
                stats.inc_value(f"{STATS}/articles")
                yield item
        self.in_flight.file_read(path)
        stats.inc_value(f"{STATS}/files")

    def _item_of(self, record: ArchivedResponse) -> ArticleItem | None:
        """The live crawl's item for ``record`` (fetched at its ``WARC-Date``), or None."""
        stats = self.crawler.stats
        stats.inc_value(f"{STATS}/records")
        self.redirects.note(record)
        reason = skip_reason(record, self.network, self._selected, *self.window)
        response = None if reason else archived_response(record, self.redirects.chain(record.url))
        if response is not None and not isinstance(response, TextResponse):
            reason = "not_html"
        if reason or response is None:
            stats.inc_value(f"{STATS}/skipped")
            stats.inc_value(f"{STATS}/skipped/{reason}")
            return None
        # parse_article yields the item first and then the links to follow; the links
        # are not wanted (nothing is fetched), so the generator is not run any further.
        item = next(iter(self.parse_article(response)))
        assert isinstance(item, ArticleItem)
        item.fetched_at = record.date
        return item

    # --- accounting ----------------------------------------------------------------------

    def _item_finished(self, item: Any, **kwargs: Any) -> None:
        if self.in_flight.finished(id(item)):
            self._drained.set()

    def _tick(self) -> None:
        self._progress.log()
        # Saved one tick late: what had left the pipelines then has been written by the
        # store since (it flushes every NEWSCRAWL_STORE_FLUSH_SECONDS, less than a tick).
        if self.checkpoints:
            try:
                self.checkpoints.save({**self._resume, **self._lagging})
            except OSError as exc:  # a full disk must not stop the import; the next tick retries
                self.logger.warning("Cannot save the checkpoint %s: %s", self.checkpoints.path, exc)
        self._lagging = self.in_flight.positions()

    def _save_checkpoint(self, spider: Any = None, reason: str = "") -> None:
        # spider_closed comes after the pipelines closed: the store has written its batch.
        if self.checkpoints and not self.argument_error:
            self.checkpoints.save({**self._resume, **self.in_flight.positions()})


def _take(records: Iterator[ArchivedResponse], count: int) -> list[ArchivedResponse]:
    return list(islice(records, count))


def archived_response(record: ArchivedResponse, redirect_urls: list[str]) -> Any:
    """A Scrapy response of the class a live crawl would get for these headers and body
    (the importer and re-extraction build their responses alike)."""
    headers = Headers(record.headers)
    cls = responsetypes.from_args(headers=headers, url=record.url, body=record.body)
    request = Request(record.url, meta={ARTICLE: True, "redirect_urls": redirect_urls})
    return cls(record.url, status=record.status, headers=headers, body=record.body, request=request)


class _Progress:
    """Records read, articles sent and stored, records/s, bytes done: one log line."""

    def __init__(self, spider: ArchiveSpider, sizes: list[int]) -> None:
        self.spider = spider
        self.sizes = sizes
        self.started = time.monotonic()
        self.current = 0
        self.offset = 0

    def file(self, number: int) -> None:
        self.current, self.offset = number, 0

    def record(self, offset: int) -> None:
        self.offset = offset

    def log(self) -> None:
        stats = self.spider.crawler.stats
        records = stats.get_value(f"{STATS}/records", 0)
        stored = sum(stats.get_value(f"newscrawl/store/{key}", 0) for key in ("new", "updated"))
        done = sum(self.sizes[: self.current]) + self.offset
        total = sum(self.sizes) or 1
        rate = records / max(time.monotonic() - self.started, 1e-9)
        self.spider.logger.info(
            "Archive progress: %d records read, %d articles sent, %d stored, %.1f records/s, "
            "%.1f of %.1f MB (%.0f %%), file %d of %d",
            records, stats.get_value(f"{STATS}/articles", 0), stored, rate,
            done / 1e6, total / 1e6, 100 * done / total, min(self.current + 1, len(self.sizes)),
            len(self.sizes),
        )  # fmt: skip
