"""Extraction: HTML into article fields, in the crawl process or in worker processes.

``NEWSCRAWL_EXTRACT_WORKERS = 0`` (the default): in the crawl process, on its reactor
thread, as each page arrives. ``N``: in a pool of N worker processes, which the pipeline
awaits.

Extraction is the CPU-heavy part of a crawl (several ms a page), and worker processes
were the first design, so that it would not stall the downloads. Measured side by side
(issue 18: ``benchmarks/run.py --variant``, N = 2,000, SQLite, 3 interleaved repeats)
they did not pay for themselves on a 2-core machine: each is an interpreter of its own
(about 75-100 MB with its imports, plus the fork server and the resource tracker) and
every page is pickled to it and its fields back. Against one worker process, extracting
here took 0.90x the CPU per page and 0.48x the tree's peak RSS at 1.15x the pages/s;
against the former default (two workers and a writer process), 0.90x the CPU and 0.36x
the RSS at the same pages/s (0.96x, within the noise of a loaded machine). One thread
beside the reactor (lxml's parse, which releases the GIL, is about a quarter of
extraction) measured 0.97x the pages/s (0.85-1.20, 8 pairs on PostgreSQL) at 1.02-1.12x
the CPU per page, so extraction stays on the reactor thread. The pool stays, for a
machine with cores to spare (``N`` above 0).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from newscrawl.extract import EXTRACTOR_VERSION, ExtractionError, extract_article
from newscrawl.extract.decode import decode_html
from newscrawl.items import ARTICLE_FIELDS
from newscrawl.network import DEFAULT_SITES_PATH, Network
from newscrawl.pipelines import collector
from newscrawl.processes import forkserver_context
from newscrawl.store.dedup import fingerprint
from newscrawl.urls import article_id

logger = logging.getLogger(__name__)


def decode_page(html: bytes | str, encoding: str | None) -> str:
    """The page as text: the response's encoding, unless the bytes say it lies (decode.py)."""
    if isinstance(html, str):
        return html
    return decode_html(html, encoding)


def extract_in_worker(html: bytes | str, url: str, encoding: str | None = None) -> tuple[bool, Any]:
    """(True, fields) or (False, reason): an exception class of our own might not unpickle.

    In a worker process the page arrives as served, so the crawl process never holds a
    decoded copy of it (see ``spiders/links.py``); in the crawl process the decoded copy
    lives only for this call."""
    try:
        fields = extract_article(decode_page(html, encoding), url)
    except ExtractionError as exc:
        return False, exc.reason
    fields["simhash"] = fingerprint(fields.get("text"))
    fields["extractor_version"] = EXTRACTOR_VERSION
    return True, fields


def _start_worker(niceness: int) -> None:
    # Ctrl-C and SIGTERM: the workers ignore both from the fork server on (processes.py).
    # Extraction takes whatever CPU is left; the crawl process (downloads, scheduling)
    # and the store's writer wait for nobody. The workers are one per core, so at the
    # same priority they kept the writer's batches waiting for a core: paired runs at
    # N = 2,000 (SQLite), database write share 9.0-9.7 % -> 8.1-8.4 %, and pages/s +5 %.
    os.nice(niceness)


class ExtractPipeline:
    """Fills an item's article fields from its ``html``; drops pages with nothing to extract."""

    # What a worker runs: a module-level function, so the pool can pickle it by name.
    extract_function: Callable[[bytes | str, str, str | None], tuple[bool, Any]] = staticmethod(
        extract_in_worker
    )

    def __init__(
        self, workers: int, network: Network, stats: StatsCollector, niceness: int = 0
    ) -> None:
        self.workers = workers
        self.niceness = niceness
        self.network = network
        self.stats = stats
        self._pool: Executor | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        settings = crawler.settings
        workers = max(settings.getint("NEWSCRAWL_EXTRACT_WORKERS", 0), 0)
        network = Network.load(settings.get("NEWSCRAWL_SITES") or DEFAULT_SITES_PATH)
        # A negative value would need root and break every worker at start: not offered.
        niceness = max(settings.getint("NEWSCRAWL_EXTRACT_NICENESS"), 0)
        # Here, not in open_spider: once per crawl process, and only in a real crawl.
        collector.tune(settings.getint("NEWSCRAWL_GC_THRESHOLD"))
        return cls(workers, network, crawler.stats, niceness)

    @property
    def in_crawl_process(self) -> bool:
        """No worker processes: every page is extracted where it arrives."""
        return self.workers == 0

    def open_spider(self, spider: Any = None) -> None:
        if not self.in_crawl_process:
            self._pool = self._new_pool()

    def close_spider(self, spider: Any = None) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _new_pool(self) -> Executor:
        return ProcessPoolExecutor(
            self.workers, mp_context=forkserver_context(), initializer=_start_worker,
            initargs=(self.niceness,),
        )  # fmt: skip

    async def process_item(self, item: Any, spider: Any = None) -> Any:
        adapter = ItemAdapter(item)
        html, url = adapter.get("html") or "", adapter["fetched_url"]
        encoding = adapter.get("encoding")
        adapter["html"] = None
        ok, result = await self._run(html, url, encoding)
        if not ok:
            raise self._dropped(url, result)
        self.stats.inc_value("newscrawl/extract/ok")
        for field in ARTICLE_FIELDS:
            adapter[field] = result.get(field)
        adapter["article_id"] = adapter.get("article_id") or result.get("article_id")
        adapter["links"] = self._network_links(result.get("body_links") or [], adapter["url"])
        return item

    async def _run(self, html: bytes | str, url: str, encoding: str | None) -> tuple[bool, Any]:
        """Extract here, or in the pool: a crashed worker costs the item one retry on a
        fresh pool."""
        if self.in_crawl_process:
            return self.extract_function(html, url, encoding)
        for attempt in (1, 2):
            pool = self._pool
            assert pool is not None, "the pipeline was not opened"
            try:
                return await asyncio.wrap_future(
                    pool.submit(self.extract_function, html, url, encoding)
                )
            except BrokenProcessPool:
                self.stats.inc_value("newscrawl/extract/worker_crashed")
                if self._pool is pool:  # the first item to notice replaces the pool
                    logger.warning("An extraction worker died; starting a new pool")
                    self._pool = self._new_pool()
                    pool.shutdown(wait=False, cancel_futures=True)
                if attempt == 2:
                    return False, "worker_crashed"
        raise AssertionError("unreachable")

    def _dropped(self, url: str, reason: str) -> DropItem:
        self.stats.inc_value("newscrawl/extract/failed")
        self.stats.inc_value(f"newscrawl/extract/failed/{reason}")
        return DropItem(f"nothing to extract ({reason}): {url}", log_level="WARNING")

    def _network_links(self, hrefs: list[str], own_url: str) -> list[dict[str, str]]:
        return network_links(self.network, hrefs, own_url)


def network_links(network: Network, hrefs: list[str], own_url: str) -> list[dict[str, str]]:
    """Body links to other articles of the network, canonical and once each (also what
    ``newscrawl/archive/reextract.py`` stores as a re-extracted story's ``links``)."""
    links: dict[str, str] = {}
    for href in hrefs:
        found = network.canonical(href)
        if found and article_id(found[0]) and found[0] != own_url:
            links.setdefault(found[0], found[1].domain)
    return [{"url": url, "site": site} for url, site in links.items()]
