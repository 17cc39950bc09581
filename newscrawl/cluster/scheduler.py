"""scrapy-redis's scheduler and duplicate filter, adapted to Scrapy 2.19 by subclassing.

Two gaps between scrapy-redis 0.9.1 and the pinned Scrapy, each closed here
rather than in a fork:

* ``RFPDupeFilter.request_fingerprint`` hashes method, URL and body itself,
  ignoring Scrapy's ``REQUEST_FINGERPRINTER`` (Scrapy >= 2.7). The subclass
  uses the crawler's fingerprinter, so the shared filter and every other
  Scrapy component (HTTP cache, ...) agree on what "the same request" is.
* Any Redis call failing mid-run raises out of the engine's scheduling loop,
  which Scrapy logs as a traceback on every tick. The subclass turns the first
  failure into one error line and closes the spider with reason
  ``redis_unavailable``: the item pipelines still flush (what could not be
  stored lands in the dead-letter file) and the crawl exits non-zero.
* Its scheduler passes ``spider=`` to ``StatsCollector.inc_value``, deprecated
  in Scrapy 2.19 (to be removed); the subclass keeps the stats collector away
  from it and counts the same ``scheduler/*/redis`` keys itself.

scrapy-redis's spider mix-in (RedisSpider) is not used at all: newscrawl's
own spider and its async ``start()`` feed the shared queue through this
scheduler, and seeding once per run is newscrawl.cluster.seeding's job.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler

from newscrawl.cluster.config import one_line
from newscrawl.cluster.connection import REDIS_DOWN

logger = logging.getLogger(__name__)

STOP_REASON = "redis_unavailable"


def redis_lost(crawler: Crawler, exc: BaseException) -> None:
    """Stop this worker once, with one line, when its Redis went away."""
    stats = crawler.stats
    assert stats is not None
    if stats.get_value("newscrawl/cluster/redis_unavailable"):
        return
    stats.set_value("newscrawl/cluster/redis_unavailable", 1)
    logger.error(
        "Redis unreachable (%s): stopping this worker; items already extracted are still "
        "stored or dead-lettered, requests it held are rediscovered by the next run",
        one_line(exc),
    )
    engine = crawler.engine
    if engine is not None and engine.spider is not None:
        from scrapy.utils.defer import deferred_from_coro

        deferred_from_coro(engine.close_spider_async(reason=STOP_REASON))


class ClusterDupeFilter(RFPDupeFilter):
    """The shared fingerprint set, keyed per run, fingerprinting the way Scrapy does."""

    fingerprinter: Any = None

    @classmethod
    def from_spider(cls, spider: Spider) -> ClusterDupeFilter:
        dupefilter = super().from_spider(spider)
        dupefilter.fingerprinter = spider.crawler.request_fingerprinter
        return dupefilter

    def request_fingerprint(self, request: Request) -> str:
        return self.fingerprinter.fingerprint(request).hex()


class ClusterScheduler(Scheduler):
    """scrapy-redis's scheduler that stops the worker cleanly when Redis goes away."""

    crawler: Crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ClusterScheduler:
        scheduler = cls.from_settings(crawler.settings)
        scheduler.crawler = crawler
        return scheduler

    def enqueue_request(self, request: Request) -> bool:
        try:
            queued = bool(super().enqueue_request(request))
        except REDIS_DOWN as exc:
            redis_lost(self.crawler, exc)
            return False
        if queued:
            self._count("scheduler/enqueued/redis")
        return queued

    def next_request(self) -> Request | None:
        try:
            request = super().next_request()
        except REDIS_DOWN as exc:
            redis_lost(self.crawler, exc)
            return None
        if request is not None:
            self._count("scheduler/dequeued/redis")
        return request

    def _count(self, key: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key)

    def has_pending_requests(self) -> bool:
        try:
            return super().has_pending_requests()
        except REDIS_DOWN as exc:
            redis_lost(self.crawler, exc)
            return False

    def queued(self) -> int:
        """Requests waiting in the shared queue (for the idle check and the stats)."""
        return len(self.queue)
