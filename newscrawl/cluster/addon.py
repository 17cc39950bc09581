"""The add-on that turns a crawl into a worker of the shared crawl, or changes nothing.

``ADDONS = {"newscrawl.cluster.RedisClusterAddon": 0}`` is always on; it
raises NotConfigured (Scrapy's way of saying "not for this crawl") unless
NEWSCRAWL_REDIS_URL is set, so a standalone crawl keeps Scrapy's in-process
scheduler and duplicate filter.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.settings import BaseSettings

from newscrawl.cluster.config import RUN_SETTING, Keys, prefix, redis_url

if TYPE_CHECKING:
    import redis

SCHEDULER = "newscrawl.cluster.scheduler.ClusterScheduler"
DUPEFILTER = "newscrawl.cluster.scheduler.ClusterDupeFilter"
THROTTLE = "newscrawl.cluster.throttle.ClusterThrottleMiddleware"
SEEDING = "newscrawl.cluster.seeding.SeedOnceMiddleware"
WORKER = "newscrawl.cluster.worker.ClusterWorker"

_clients: weakref.WeakKeyDictionary[Crawler, redis.Redis] = weakref.WeakKeyDictionary()


def client_of(crawler: Crawler) -> redis.Redis:
    """One Redis client (one connection pool) for all of a crawler's cluster components."""
    if crawler not in _clients:
        import redis  # here, not at the top: a standalone crawl loads this add-on too

        from newscrawl.cluster.connection import REDIS_PARAMS

        _clients[crawler] = redis.Redis.from_url(crawler.settings["REDIS_URL"], **REDIS_PARAMS)
    return _clients[crawler]


class RedisClusterAddon:
    def update_settings(self, settings: BaseSettings) -> None:
        url = redis_url(settings)
        if not url:
            raise NotConfigured  # standalone crawl: silently off
        run = settings.get(RUN_SETTING)
        if not run:
            # scrapy shell/fetch/check, or a crawl not started by newscrawl's crawl
            # command: they must not touch the shared queue, so they run standalone.
            raise NotConfigured(
                "NEWSCRAWL_REDIS_URL is set, but only `scrapy crawl` joins the cluster; "
                "running standalone"
            )
        from newscrawl.cluster.connection import REDIS_PARAMS  # a cluster worker: redis-py

        keys = Keys(prefix(settings), run)
        settings.set("REDIS_URL", url, priority="addon")
        settings.set("REDIS_PARAMS", REDIS_PARAMS, priority="addon")
        settings.set("SCHEDULER", SCHEDULER, priority="addon")
        settings.set("DUPEFILTER_CLASS", DUPEFILTER, priority="addon")
        settings.set("SCHEDULER_QUEUE_CLASS", "scrapy_redis.queue.PriorityQueue", priority="addon")
        # Keys are per run: the next run must fetch again what this one saw
        # (incremental runs decide by the store, not by a forever-growing filter).
        settings.set("SCHEDULER_QUEUE_KEY", keys.requests, priority="addon")
        settings.set("SCHEDULER_DUPEFILTER_KEY", keys.dupefilter, priority="addon")
        # A worker leaving must not flush the queue the others still work on;
        # the run's last worker deletes the run's keys (cluster.lock).
        settings.set("SCHEDULER_PERSIST", True, priority="addon")
        settings.set("SCHEDULER_FLUSH_ON_START", False, priority="addon")
        settings.set("SCHEDULER_IDLE_BEFORE_CLOSE", 0, priority="addon")
        for name, path, order in (
            ("DOWNLOADER_MIDDLEWARES", THROTTLE, 950),
            ("SPIDER_MIDDLEWARES", SEEDING, 0),
            ("EXTENSIONS", WORKER, 0),
        ):
            components = settings.getdict(name)
            components[path] = order
            settings.set(name, components, priority=settings.getpriority(name) or 0)
