"""``CrawlProgress``, the Scrapy extension: gathers the counts, shows them while the crawl
runs (live line or log line) and logs the per-portal table at ``spider_closed``."""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Any

from itemadapter import ItemAdapter
from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Request, Response
from scrapy.utils.asyncio import create_looping_call

from newscrawl.progress.report import (
    OTHER,
    RateMeter,
    Snapshot,
    portal_counts,
    portal_table,
    status_line,
)
from newscrawl.progress.terminal import LiveLine

logger = logging.getLogger("newscrawl.progress")  # the name people grep the log for


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
            self._every(self.refresh, self._redraw, RateMeter(int(10 / self.refresh) + 1))
        # The log gets the line when nobody sees the live one: no terminal, or LOG_FILE.
        if self.period > 0 and (self.display is None or not self.display.carries_log):
            meter = RateMeter(2)  # the rate since the previous line
            meter.add(time.monotonic(), 0)
            self._every(self.period, self._log_line, meter, now=False)

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
    def _every(self, seconds: float, call: Any, meter: RateMeter, now: bool = True) -> None:
        loop = create_looping_call(call, meter)
        loop.start(seconds, now=now)
        self.loops.append(loop)

    def _redraw(self, meter: RateMeter) -> None:
        """The live line; its rate over the last ten seconds."""
        if self.display is not None:
            self.display.show(self._line(meter))

    def _log_line(self, meter: RateMeter) -> None:
        logger.info("Progress: %s", self._line(meter))

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
