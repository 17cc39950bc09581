"""``StorePipeline``: buffers items and writes them in batches to the article store.

Settings (read in ``from_crawler``; their defaults are in ``newscrawl/settings.py``):

=================================  ==============================  ==========================
setting                            default                         meaning
=================================  ==============================  ==========================
``NEWSCRAWL_DATABASE_URL``         env var of the same name, else  SQLAlchemy URL (sqlite or
                                   ``sqlite:///data/news.db``      postgresql)
``NEWSCRAWL_STORE_BATCH_SIZE``     500                             items per transaction
``NEWSCRAWL_STORE_FLUSH_SECONDS``  5.0                             longest an item waits
``NEWSCRAWL_STORE_RETRIES``        4                               retries of a failed batch
``NEWSCRAWL_STORE_BACKOFF``        1.0                             first retry delay (s),
                                                                   doubled per retry
``NEWSCRAWL_DEADLETTER_PATH``      ``data/deadletter.jsonl``       where unwritable items go
``NEWSCRAWL_STORE_WRITER``         ``thread``                      or ``process``: who writes
=================================  ==============================  ==========================

Everything about the database is the ``Store``'s (``newscrawl.store.front``): the run
record, the writer process, retries, the dead-letter file. This pipeline only batches
items and hands each batch to ``Store.write`` in a thread, so the reactor never waits
for the database, and turns the results into stats. A batch that still fails after the
retries (database gone, disk full) is in the dead-letter file and the crawl is marked
failed; re-import it with ``python -m newscrawl.store reimport``.
``newscrawl/store/unreachable``: the database could not be reached when the crawl
opened (the summary line's ``reason=database_unreachable``).
Stats: ``newscrawl/store/<status>`` for new, updated, unchanged, duplicate, failed, and
``newscrawl/store/<status>/site/<domain>`` per portal (the item's ``site``);
``newscrawl/store/failed/<reason>``;
``newscrawl/store/deadletter`` (items in the dead-letter file);
``newscrawl/store/rejected_pages`` (``rejected_pages`` rows written: pages that an
earlier pipeline dropped, reported by Scrapy's ``item_dropped`` signal);
``newscrawl/store/indexed`` and ``index_seconds`` (PostgreSQL search index, filled beside
the writes by ``SearchIndexer``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from itemadapter import ItemAdapter
from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from twisted.internet import task, threads

from newscrawl.pipelines.search_index import SearchIndexer
from newscrawl.store import BatchResult, Store, StoreError, rejected_page
from newscrawl.store.runs import run_status

logger = logging.getLogger(__name__)
T = TypeVar("T")

STATS = "newscrawl/store"
RUN_COUNTS = {"new": "new", "updated": "updated", "unchanged": "unchanged",
              "duplicates": "duplicate", "failed": "failed"}  # fmt: skip


class StorePipeline:
    def __init__(self, crawler: Crawler, store: Store, batch_size: int, flush_seconds: float):
        self.crawler = crawler
        self.stats = crawler.stats
        self.store = store
        self.batch_size = max(1, batch_size)
        self.flush_seconds = flush_seconds
        self.buffer: list[dict[str, Any]] = []
        self.rejected: list[dict[str, Any]] = []
        """Pages dropped by an earlier pipeline: written with the next batch."""
        self.counts = dict.fromkeys(RUN_COUNTS, 0)
        self.deadlettered = 0
        self.indexer = SearchIndexer(store, crawler.stats)
        self._flushing: Any = None
        self._loop: task.LoopingCall | None = None
        self._closed = False
        self._run_closed = False
        self.received = 0
        """Items this pipeline was given: each is stored, failed, or dead-lettered."""
        self._forced = False
        """The reactor is stopping before the spider closed (``_forced_stop``)."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        settings = crawler.settings
        level = settings.get("LOG_LEVEL") or "DEBUG"
        store = Store(
            settings.get("NEWSCRAWL_DATABASE_URL") or None,
            retries=settings.getint("NEWSCRAWL_STORE_RETRIES", 4),
            backoff=settings.getfloat("NEWSCRAWL_STORE_BACKOFF", 1.0),
            deadletter_path=settings.get("NEWSCRAWL_DEADLETTER_PATH", "data/deadletter.jsonl"),
            writer=settings.get("NEWSCRAWL_STORE_WRITER", "thread"),
            log_level=logging.getLevelName(level) if isinstance(level, str) else int(level),
        )  # fmt: skip
        pipeline = cls(
            crawler, store, settings.getint("NEWSCRAWL_STORE_BATCH_SIZE", 500),
            settings.getfloat("NEWSCRAWL_STORE_FLUSH_SECONDS", 5.0),
        )  # fmt: skip
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(pipeline.item_dropped, signal=signals.item_dropped)
        return pipeline

    # --- Scrapy hooks -----------------------------------------------------------------
    async def open_spider(self) -> None:
        logger.info("Storing items in %s", self.store.display_url)
        spider = self.crawler.spider
        arguments = dict(getattr(spider, "arguments", {}))
        sites = list(getattr(spider, "site_domains", []))
        try:
            await self._in_thread(self.store.open_run, spider.name, arguments, sites)
            self.indexer.poke()  # stories an interrupted crawl left unindexed
            # Not awaited: a writer process starts while the first pages are fetched.
            threads.deferToThread(self.store.start_writer).addErrback(
                lambda failure: logger.debug("Writer start: %s", failure.value)
            )
        except Exception as exc:  # crawl on; items go to the dead-letter file
            self.stats.set_value(f"{STATS}/unreachable", 1)
            logger.error("Store unavailable at start (%s): %s", self.store.display_url, exc)
        self._loop = task.LoopingCall(self._flush)
        self._loop.start(self.flush_seconds, now=False)
        from twisted.internet import reactor

        reactor.addSystemEventTrigger("before", "shutdown", self._forced_stop)

    async def process_item(self, item: Any) -> Any:
        # A shallow copy: the values are plain data already, and asdict()'s walk through
        # every nested list and dict cost 0.6 ms an item in the crawl process.
        data = dict(ItemAdapter(item))
        data.pop("html", None)
        data.pop("encoding", None)
        self.received += 1
        if self._forced:  # the reactor is stopping: no batch will be written any more
            kept = self.store.keep([data], "Stopped before 1 item was stored")
            self._count_unstored(kept, [data])
            return item
        self.buffer.append(data)
        if len(self.buffer) >= self.batch_size:
            self._flush()
        # Backpressure: while the database lags far behind, let the item wait for it.
        if len(self.buffer) >= 10 * self.batch_size and self._flushing is not None:
            await maybe_deferred_to_future(self._flushing)
        return item

    def item_dropped(self, item: Any, response: Any, exception: BaseException, spider: Any) -> None:
        """Remember a page an earlier pipeline dropped (no article in it), so the next runs
        can skip it; written with the next batch."""
        try:
            data = dict(ItemAdapter(item))
        except TypeError:  # not an item type this project knows
            return
        page = rejected_page(data, str(exception))
        if page is not None:
            self.rejected.append(page)

    async def close_spider(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        while not self._forced and (self._flushing is not None or self.buffer or self.rejected):
            if self._flushing is None:
                self._flush()
            if self._flushing is not None:
                await maybe_deferred_to_future(self._flushing)
        await self.indexer.drain()

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        if self._run_closed:
            return
        self._run_closed = self._closed = True
        status = run_status(reason, failed=self.deadlettered + self.store.lost > 0)
        if self.store.lost:
            logger.error(
                "%d items could be stored neither in %s nor in the dead-letter file %s: "
                "they are lost; the next run fetches them again",
                self.store.lost, self.store.display_url, self.store.deadletter_path,
            )  # fmt: skip
        if self.deadlettered:
            logger.error(
                "%d items could not be stored in %s and were written to %s; "
                "re-import with: %s",
                self.deadlettered, self.store.display_url, self.store.deadletter_path,
                self.store.reimport_hint(),
            )  # fmt: skip
        try:
            await self._in_thread(self.store.finish_run, status, self.counts)
        except StoreError as exc:  # the next crawl marks the run interrupted
            logger.error("Could not record the end of crawl run %s: %s", self.store.run_id, exc)
        await self._in_thread(self.store.close)

    def _forced_stop(self) -> Any:
        """The reactor stops before the spider closed: a second Ctrl-C or SIGTERM (Scrapy
        then stops the reactor at once, and ``close_spider`` never finishes).

        Hurries the stop without dropping anything: the buffered items go to the
        dead-letter file at once (no waiting for the database), the batch being written
        finishes (or is dead-lettered by ``Store.write``), and the run is recorded as
        interrupted with one try. The reactor waits for the returned Deferred.
        """
        if self._closed:
            return None
        self._closed = self._forced = True
        self.rejected = []  # losing a rejected page costs only a re-fetch
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        buffered, self.buffer = self.buffer, []
        logger.warning(
            "Stopping at once: of %d items received, %d are buffered (to the dead-letter "
            "file) and the batch being written is waited for", self.received, len(buffered),
        )  # fmt: skip
        if buffered:
            why = f"Stopped before {len(buffered)} buffered items were stored"
            self._count_unstored(self.store.keep(buffered, why), buffered)
        self.stats.set_value("finish_reason", self.stats.get_value("finish_reason", "shutdown"))
        return deferred_from_coro(self._finish_forced())

    async def _finish_forced(self) -> None:
        """Wait for the batch being written, then close the run record with one try."""
        if self._flushing is not None:
            await maybe_deferred_to_future(self._flushing)
        self.store.retries = 0  # hurried: the next crawl marks the run if this fails
        await self.spider_closed(self.crawler.spider, "shutdown")

    # --- batches ----------------------------------------------------------------------
    def _flush(self) -> None:
        if self._flushing is not None or self._forced or not (self.buffer or self.rejected):
            return
        batch, self.buffer = self.buffer[: self.batch_size], self.buffer[self.batch_size :]
        pages, self.rejected = self.rejected, []
        self._flushing = threads.deferToThread(self._timed_write, batch, pages)
        self._flushing.addBoth(self._flushed, batch)

    def _flushed(self, result: Any, batch: list[dict[str, Any]]) -> None:
        self._flushing = None
        if isinstance(result, BatchResult):
            self._record(result)
            self._count_sites((batch[o.index], o.status) for o in result.outcomes)
            if result.new or result.updated:
                self.indexer.poke()
        elif isinstance(result, int):
            self._count_unstored(result, batch)
        else:  # a Failure: Store.write never raises, so a bug; the batch still is not lost
            logger.error("Store pipeline error: %s", result.getTraceback())
            self._flushed(self.store.keep(batch, f"Could not store {len(batch)} items"), batch)
            return
        if len(self.buffer) >= self.batch_size:
            self._flush()

    def _count_unstored(self, deadlettered: int, batch: list[dict[str, Any]]) -> None:
        """A batch that was not stored: in the dead-letter file, or lost (``Store.lost``)."""
        self.deadlettered += deadlettered
        self.counts["failed"] += len(batch)
        if deadlettered:
            self.stats.inc_value(f"{STATS}/deadletter", deadlettered)
        self.stats.inc_value(f"{STATS}/failed", len(batch))
        if self.store.lost:
            self.stats.set_value(f"{STATS}/lost", self.store.lost)
        self._count_sites((item, "failed") for item in batch)

    def _timed_write(
        self, batch: list[dict[str, Any]], pages: list[dict[str, Any]]
    ) -> BatchResult | int:
        """``Store.write``, adding its duration to ``newscrawl/store/write_seconds``.

        The stat says how much of a crawl's wall time the database costs (the
        benchmark reports it); the stats collector is a plain dict, safe to bump
        from this thread.
        """
        started = time.perf_counter()
        try:
            return self.store.write(batch, pages)
        finally:
            self.stats.inc_value(f"{STATS}/write_seconds", time.perf_counter() - started)

    def _record(self, result: BatchResult) -> None:
        for column, status in RUN_COUNTS.items():
            count = result.count(status)
            self.counts[column] += count
            if count:
                self.stats.inc_value(f"{STATS}/{status}", count)
        if result.rejected:
            self.stats.inc_value(f"{STATS}/rejected_pages", result.rejected)
        for reason, count in result.failure_reasons().items():
            self.stats.inc_value(f"{STATS}/failed/{reason}", count)
        refused = result.count_reason("db_error")
        if refused:
            self.deadlettered += refused
            self.stats.inc_value(f"{STATS}/deadletter", refused)
        if self.store.lost:  # refused items the dead-letter file could not take
            self.stats.set_value(f"{STATS}/lost", self.store.lost)

    def _count_sites(self, outcomes: Iterable[tuple[dict[str, Any], str]]) -> None:
        """``newscrawl/store/<status>/site/<domain>``: the per-portal report's counts."""
        for item, status in outcomes:
            self.stats.inc_value(f"{STATS}/{status}/site/{item.get('site') or 'other'}")

    @staticmethod
    async def _in_thread(function: Callable[..., T], *args: Any) -> T:
        return await maybe_deferred_to_future(threads.deferToThread(function, *args))
