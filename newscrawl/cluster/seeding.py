"""Seed each cluster run once: the first worker pushes the sources, the others only consume.

A spider middleware around ``start()`` (Scrapy's ``process_start`` hook), so
the spider stays the same in both modes: the worker that wins an atomic
``SET NX`` on the run's *seeded* key lets its sources through into the shared
queue; every other worker of the run drops them and works off the queue.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import redis
from scrapy.crawler import Crawler

from newscrawl.cluster.config import RUN_SETTING, WORKER_SETTING, Keys, prefix
from newscrawl.cluster.connection import REDIS_DOWN
from newscrawl.cluster.scheduler import redis_lost

logger = logging.getLogger(__name__)

# Long enough for any run; only a guard against keys of abandoned runs living forever.
SEEDED_TTL_SECONDS = 7 * 24 * 3600


def claim_seeding(client: redis.Redis, keys: Keys, worker: str) -> bool:
    """True for exactly one caller per run."""
    return bool(client.set(keys.seeded, worker, nx=True, ex=SEEDED_TTL_SECONDS))


class SeedOnceMiddleware:
    def __init__(self, crawler: Crawler, client: redis.Redis) -> None:
        self.crawler = crawler
        self.client = client
        self.keys = Keys(prefix(crawler.settings), crawler.settings[RUN_SETTING])
        self.worker = crawler.settings[WORKER_SETTING]

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SeedOnceMiddleware:
        from newscrawl.cluster.addon import client_of

        return cls(crawler, client_of(crawler))

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        stats = self.crawler.stats
        assert stats is not None
        try:
            seeding = claim_seeding(self.client, self.keys, self.worker)
        except REDIS_DOWN as exc:
            redis_lost(self.crawler, exc)
            return
        stats.set_value("newscrawl/cluster/seeded", int(seeding))
        if not seeding:
            logger.info("Run %s is seeded already: this worker only consumes", self.keys.run)
            return
        logger.info("Seeding run %s for the cluster", self.keys.run)
        async for item_or_request in start:
            yield item_or_request
