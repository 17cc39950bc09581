"""A worker stays while the cluster has work, and leaves when the run has none.

Scrapy closes a spider when *its* engine is idle; in a cluster, an idle worker
must stay while the shared queue holds requests or another worker is busy
(its pages may yield new requests), as scrapy-redis's own idle handling does
with DontCloseSpider. Busy is published per worker as a heartbeat key with a
TTL: a crashed worker's key expires, so nobody waits on it for long.

Each worker also publishes how many sources answered it, so that a worker the queue
handed only a broken sitemap does not call the run's sources dead (the crawl command's
exit status reads ``CLUSTER_SOURCES_ANSWERED``, set when the worker leaves).

Leaving early is harmless for correctness: a request is only lost with the
worker holding it, and the busy worker that will enqueue new work is still
running then. The flags only keep idle workers around for throughput.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.asyncio import create_looping_call

from newscrawl.cluster.config import (
    CLUSTER_SOURCES_ANSWERED,
    RUN_SETTING,
    WORKER_SETTING,
    Keys,
    prefix,
)
from newscrawl.cluster.connection import REDIS_DOWN
from newscrawl.cluster.lock import HEARTBEAT_TTL_MS
from newscrawl.cluster.scheduler import redis_lost
from newscrawl.progress.report import sources_answered

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 2.0
# How often an idle worker looks at the shared queue again. Scrapy's own re-check of
# an idle spider kept open by DontCloseSpider is its 5 s engine heartbeat, too slow
# for a worker to pick up the pages a busy one just found.
IDLE_POLL_SECONDS = 1.0

# (requests queued, other workers busy), read in one round trip.
_RUN_STATE = """
local base, me = ARGV[1], ARGV[2]
local busy = 0
for _, w in ipairs(redis.call('SMEMBERS', base .. ':workers')) do
  if w ~= me and redis.call('GET', base .. ':worker:' .. w) == '1' then busy = busy + 1 end
end
return {redis.call('ZCARD', base .. ':requests'), busy}
"""


class ClusterWorker:
    """Extension: heartbeat while the spider runs; DontCloseSpider while the run has work."""

    def __init__(self, crawler: Crawler, client: redis.Redis) -> None:
        self.crawler = crawler
        self.client = client
        self.keys = Keys(prefix(crawler.settings), crawler.settings[RUN_SETTING])
        self.worker = crawler.settings[WORKER_SETTING]
        self.heartbeat: Any = None  # made when the spider opens: it needs the reactor
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ClusterWorker:
        from newscrawl.cluster.addon import client_of

        return cls(crawler, client_of(crawler))

    def spider_opened(self) -> None:
        self.heartbeat = create_looping_call(self._beat)
        self.heartbeat.start(HEARTBEAT_SECONDS, now=True)

    def spider_closed(self) -> None:
        if self.heartbeat is not None and self.heartbeat.running:
            self.heartbeat.stop()

    def _locally_busy(self) -> bool:
        engine = self.crawler.engine
        if engine is None or engine.scraper.slot is None:
            return True  # starting up: count as busy, so nobody ends the run under us
        return bool(
            engine.downloader.active
            or not engine.scraper.slot.is_idle()
            or getattr(engine, "_start", None) is not None  # start() not exhausted yet
        )

    def _publish(self, busy: bool) -> None:
        # The count goes with the idle flag: a worker reads the run's total only when no
        # other is busy, so every other worker published its final count before.
        answered = sources_answered(self.crawler.stats.get_stats())  # type: ignore[union-attr]
        with self.client.pipeline(transaction=False) as pipe:
            pipe.hset(self.keys.sources, self.worker, answered)
            pipe.set(self.keys.worker(self.worker), "1" if busy else "0", px=HEARTBEAT_TTL_MS)
            pipe.execute()

    def _beat(self) -> None:
        try:
            self._publish(self._locally_busy())
        except REDIS_DOWN as exc:
            redis_lost(self.crawler, exc)

    def _poll_again(self) -> None:
        # The engine's slot is private API, but its nextcall is the one way to ask the
        # engine for "look at the scheduler again in a second" (what the heartbeat does).
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is not None:
            slot.nextcall.schedule(IDLE_POLL_SECONDS)

    def spider_idle(self) -> None:
        stats = self.crawler.stats
        assert stats is not None
        if stats.get_value("newscrawl/cluster/redis_unavailable"):
            return  # closing already; waiting on a lost Redis would hang
        try:
            self._publish(False)
            queued, busy = self.client.eval(_RUN_STATE, 0, self.keys.run_base, self.worker)
        except REDIS_DOWN as exc:
            redis_lost(self.crawler, exc)
            return
        if queued or busy:
            stats.inc_value("newscrawl/cluster/idle_waits")
            self._poll_again()
            raise DontCloseSpider
        logger.info("Run %s has no queued requests and no busy worker: leaving", self.keys.run)
        try:
            answered = sum(int(count) for count in self.client.hvals(self.keys.sources))
        except REDIS_DOWN as exc:
            redis_lost(self.crawler, exc)
            return
        stats.set_value(CLUSTER_SOURCES_ANSWERED, answered)
