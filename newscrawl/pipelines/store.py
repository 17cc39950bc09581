"""``StorePipeline``: buffers items and writes them in batches to the article store.

Settings (read in ``from_crawler``; defaults here and only here):

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
=================================  ==============================  ==========================

Writes run one batch at a time in a process of their own (``WriterProcess`` says why),
waited for by a thread, so the reactor never waits for the database. A batch that still
fails after the retries (database gone, disk full) is appended to the dead-letter file
and the crawl is marked failed; re-import it with ``python -m newscrawl.store reimport``.
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
from scrapy.utils.defer import maybe_deferred_to_future
from sqlalchemy import Engine
from twisted.internet import task, threads

from newscrawl.pipelines.search_index import SearchIndexer
from newscrawl.pipelines.writer import WriterProcess, is_outage
from newscrawl.pipelines.writer import one_line as _one_line
from newscrawl.store import deadletter, display_url, make_engine, migrate
from newscrawl.store import rejected as rejected_pages
from newscrawl.store.runs import finish_run, run_status, start_run
from newscrawl.store.write import BatchResult

logger = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULTS: dict[str, Any] = {
    "NEWSCRAWL_STORE_BATCH_SIZE": 500,
    "NEWSCRAWL_STORE_FLUSH_SECONDS": 5.0,
    "NEWSCRAWL_STORE_RETRIES": 4,
    "NEWSCRAWL_STORE_BACKOFF": 1.0,
    "NEWSCRAWL_DEADLETTER_PATH": deadletter.DEFAULT_PATH,
}
STATS = "newscrawl/store"
RUN_COUNTS = {"new": "new", "updated": "updated", "unchanged": "unchanged",
              "duplicates": "duplicate", "failed": "failed"}  # fmt: skip


class StorePipeline:
    def __init__(self, crawler: Crawler, engine: Engine) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.engine = engine
        self.batch_size = max(1, settings.getint("NEWSCRAWL_STORE_BATCH_SIZE", DEFAULTS[
            "NEWSCRAWL_STORE_BATCH_SIZE"]))  # fmt: skip
        self.flush_seconds = settings.getfloat(
            "NEWSCRAWL_STORE_FLUSH_SECONDS", DEFAULTS["NEWSCRAWL_STORE_FLUSH_SECONDS"]
        )
        self.retries = settings.getint(
            "NEWSCRAWL_STORE_RETRIES", DEFAULTS["NEWSCRAWL_STORE_RETRIES"]
        )
        self.backoff = settings.getfloat(
            "NEWSCRAWL_STORE_BACKOFF", DEFAULTS["NEWSCRAWL_STORE_BACKOFF"]
        )
        self.deadletter_path = settings.get(
            "NEWSCRAWL_DEADLETTER_PATH", DEFAULTS["NEWSCRAWL_DEADLETTER_PATH"]
        )
        self.buffer: list[dict[str, Any]] = []
        self.rejected: list[dict[str, Any]] = []
        """Pages dropped by an earlier pipeline: written with the next batch."""
        self.counts = dict.fromkeys(RUN_COUNTS, 0)
        self.deadlettered = 0
        self.run_id: int | None = None
        self.indexer = SearchIndexer(engine, crawler.stats)
        level = settings.get("LOG_LEVEL") or "DEBUG"
        self.writer = WriterProcess(
            engine, logging.getLevelName(level) if isinstance(level, str) else int(level)
        )
        self._flushing: Any = None
        self._loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        engine = make_engine(crawler.settings.get("NEWSCRAWL_DATABASE_URL") or None)
        pipeline = cls(crawler, engine)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(pipeline.item_dropped, signal=signals.item_dropped)
        return pipeline

    # --- Scrapy hooks -----------------------------------------------------------------
    async def open_spider(self) -> None:
        logger.info("Storing items in %s", display_url(self.engine))
        spider = self.crawler.spider
        arguments = dict(getattr(spider, "arguments", {}))
        sites = list(getattr(spider, "site_domains", []))
        try:
            await self._in_thread(self._retrying, "migrate", lambda: migrate(self.engine))
            self.run_id = await self._in_thread(
                self._retrying,
                "start run",
                lambda: start_run(self.engine, spider.name, arguments, sites),
            )
            self.indexer.poke()  # stories an interrupted crawl left unindexed
            # Not awaited: the worker starts while the first pages are fetched.
            threads.deferToThread(self.writer.start).addErrback(
                lambda failure: logger.debug("Writer process start: %s", failure.value)
            )
        except Exception as exc:  # crawl on; items go to the dead-letter file
            logger.error(
                "Store unavailable at start (%s): %s", display_url(self.engine), _one_line(exc)
            )
        self._loop = task.LoopingCall(self._flush)
        self._loop.start(self.flush_seconds, now=False)

    async def process_item(self, item: Any) -> Any:
        # A shallow copy: the values are plain data already, and asdict()'s walk through
        # every nested list and dict cost 0.6 ms an item in the crawl process.
        data = dict(ItemAdapter(item))
        data.pop("html", None)
        data.pop("encoding", None)
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
        page = rejected_pages.page_from(data, str(exception))
        if page is not None:
            self.rejected.append(page)

    async def close_spider(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        while self._flushing is not None or self.buffer or self.rejected:
            if self._flushing is None:
                self._flush()
            if self._flushing is not None:
                await maybe_deferred_to_future(self._flushing)
        await self.indexer.drain()
        await self._in_thread(self.writer.close)

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        status = run_status(reason, failed=self.deadlettered > 0)
        if self.deadlettered:
            logger.error(
                "%d items could not be stored in %s and were written to %s; "
                "re-import with: python -m newscrawl.store reimport %s",
                self.deadlettered, display_url(self.engine), self.deadletter_path,
                self.deadletter_path,
            )  # fmt: skip
        if self.run_id is not None:
            try:
                await self._in_thread(
                    self._retrying,
                    "finish run",
                    lambda: finish_run(self.engine, self.run_id, status, self.counts),  # type: ignore[arg-type]
                )
            except Exception as exc:  # nothing left to save but the log line
                logger.error(
                    "Could not record the end of crawl run %s: %s", self.run_id, _one_line(exc)
                )
        self.engine.dispose()

    # --- batches ----------------------------------------------------------------------
    def _flush(self) -> None:
        if self._flushing is not None or not (self.buffer or self.rejected):
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
            self.deadlettered += result
            self.counts["failed"] += result
            self.stats.inc_value(f"{STATS}/deadletter", result)
            self.stats.inc_value(f"{STATS}/failed", result)
            self._count_sites((item, "failed") for item in batch)
        else:  # a Failure: _write never raises, so this is a bug; the batch still is not lost
            logger.error("Store pipeline error: %s", result.getTraceback())
            deadletter.append(self.deadletter_path, batch)
            self._flushed(len(batch), batch)
            return
        if len(self.buffer) >= self.batch_size:
            self._flush()

    def _timed_write(
        self, batch: list[dict[str, Any]], pages: list[dict[str, Any]]
    ) -> BatchResult | int:
        """``_write``, adding its duration to ``newscrawl/store/write_seconds``.

        The stat says how much of a crawl's wall time the database costs (the
        benchmark reports it); the stats collector is a plain dict, safe to bump
        from this thread.
        """
        started = time.perf_counter()
        try:
            return self._write(batch, pages)
        finally:
            self.stats.inc_value(f"{STATS}/write_seconds", time.perf_counter() - started)

    def _write(self, batch: list[dict[str, Any]], pages: list[dict[str, Any]]) -> BatchResult | int:
        """Runs in a thread: the batch with retries, else to the dead-letter file.

        Returns the result, or the number of dead-lettered items; stats and counts are
        updated by ``_flushed`` back in the reactor thread. Rejected pages are not
        dead-lettered: losing one costs only a re-fetch on the next run.
        """
        try:
            result = self._retrying("write", lambda: self.writer.write(batch, pages))
        except Exception as exc:  # whatever it was, the items must not be lost
            deadletter.append(self.deadletter_path, batch)
            logger.error(
                "Could not store %d items (%s); appended them to %s",
                len(batch), _one_line(exc), self.deadletter_path,
            )  # fmt: skip
            return len(batch)
        refused = [batch[outcome.index] for outcome in _refused(result)]
        if refused:
            # Valid items the database itself refused (a permission, a constraint the
            # schema checks do not know): kept for a reimport once that is fixed.
            deadletter.append(self.deadletter_path, refused)
            logger.error(
                "The database refused %d items; appended them to %s",
                len(refused), self.deadletter_path,
            )  # fmt: skip
        return result

    def _retrying(self, what: str, call: Callable[[], T]) -> T:
        for attempt in range(self.retries + 1):
            try:
                return call()
            except Exception as exc:
                if not is_outage(exc) or attempt == self.retries:
                    raise
                delay = self.backoff * 2**attempt
                logger.warning(
                    "Database %s unavailable for %s (%s), retry %d/%d in %.1fs",
                    display_url(self.engine), what, _one_line(exc),
                    attempt + 1, self.retries, delay,
                )  # fmt: skip
                time.sleep(delay)
        raise AssertionError("unreachable")

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
        refused = len(_refused(result))
        if refused:
            self.deadlettered += refused
            self.stats.inc_value(f"{STATS}/deadletter", refused)

    def _count_sites(self, outcomes: Iterable[tuple[dict[str, Any], str]]) -> None:
        """``newscrawl/store/<status>/site/<domain>``: the per-portal report's counts."""
        for item, status in outcomes:
            self.stats.inc_value(f"{STATS}/{status}/site/{item.get('site') or 'other'}")

    @staticmethod
    async def _in_thread(function: Callable[..., T], *args: Any) -> T:
        return await maybe_deferred_to_future(threads.deferToThread(function, *args))


def _refused(result: BatchResult) -> list[Any]:
    """Outcomes of items the database refused though they passed the schema checks."""
    return [outcome for outcome in result.outcomes if outcome.reason == "db_error"]
