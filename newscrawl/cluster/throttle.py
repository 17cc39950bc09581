"""Politeness for the whole cluster: a per-portal token bucket and concurrency limit in Redis.

Scrapy's own limits (CONCURRENT_REQUESTS_PER_DOMAIN, AutoThrottle) are per
process, so N workers would send a portal N times the intended load. Before
each download this middleware asks Redis, in one Lua script (atomic across
workers, timed by the Redis server's clock so machines' clocks need not
agree), for a token of the portal's bucket and a concurrency lease:

* bucket: ``NEWSCRAWL_CLUSTER_RATE_PER_PORTAL`` tokens a second, at most
  ``NEWSCRAWL_CLUSTER_BURST`` stored, so no window sees more than rate x t + burst;
* leases: at most ``NEWSCRAWL_CLUSTER_CONCURRENCY_PER_PORTAL`` downloads in
  flight per portal; a lease is a sorted-set member that expires after the
  download timeout, so a killed worker's leases free themselves.

A request without a token waits (non-blocking sleep) and asks again.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.asyncio import sleep

from newscrawl.cluster.config import WORKER_SETTING, Keys, prefix
from newscrawl.cluster.connection import REDIS_DOWN
from newscrawl.cluster.scheduler import redis_lost
from newscrawl.urls import host_of

logger = logging.getLogger(__name__)

LEASE_META = "newscrawl_cluster_lease"

# Returns 0 when granted, else milliseconds to wait before asking again.
_ACQUIRE = """
local bucket, leases = KEYS[1], KEYS[2]
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local max_conc, lease_ms, member = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if max_conc > 0 then
  redis.call('ZREMRANGEBYSCORE', leases, '-inf', now)
  if redis.call('ZCARD', leases) >= max_conc then return 50 end
end
local tokens = tonumber(redis.call('HGET', bucket, 'tokens'))
local last = tonumber(redis.call('HGET', bucket, 'ts'))
if tokens == nil or last == nil then tokens, last = burst, now end
tokens = math.min(burst, tokens + math.max(0, now - last) * rate / 1000)
local wait = 0
if tokens < 1 then
  wait = math.ceil((1 - tokens) * 1000 / rate)
else
  tokens = tokens - 1
  if max_conc > 0 then
    redis.call('ZADD', leases, now + lease_ms, member)
    redis.call('PEXPIRE', leases, lease_ms)
  end
end
redis.call('HSET', bucket, 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', bucket, math.ceil(burst * 1000 / rate) + 60000)
return wait
"""


class PortalBucket:
    """The cluster-wide allowance of one Redis for all portals; usable outside Scrapy (tests)."""

    def __init__(
        self,
        client: redis.Redis,
        keys: Keys,
        rate: float,
        burst: float = 1.0,
        concurrency: int = 0,
        lease_seconds: float = 60.0,
    ) -> None:
        if rate <= 0:
            raise ValueError("NEWSCRAWL_CLUSTER_RATE_PER_PORTAL must be above 0")
        self.client, self.keys = client, keys
        self.rate, self.burst, self.concurrency = rate, max(burst, 1.0), concurrency
        self.lease_ms = int(lease_seconds * 1000)
        self._script = client.register_script(_ACQUIRE)

    def try_acquire(self, portal: str, lease: str) -> float:
        """0.0 when the request may go now (lease taken), else seconds to wait."""
        wait_ms = self._script(
            keys=[self.keys.bucket(portal), self.keys.leases(portal)],
            args=[self.rate, self.burst, self.concurrency, self.lease_ms, lease],
        )
        return int(wait_ms) / 1000

    def release(self, portal: str, lease: str) -> None:
        if self.concurrency > 0:
            self.client.zrem(self.keys.leases(portal), lease)


class ClusterThrottleMiddleware:
    """Downloader middleware; installed last (950) so skipped and cached requests cost no token."""

    def __init__(self, crawler: Crawler, bucket: PortalBucket) -> None:
        self.crawler = crawler
        self.bucket = bucket
        self.worker = crawler.settings[WORKER_SETTING]
        self._serial = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ClusterThrottleMiddleware:
        from newscrawl.cluster.addon import client_of

        settings = crawler.settings
        bucket = PortalBucket(
            client_of(crawler),
            Keys(prefix(settings)),
            rate=settings.getfloat("NEWSCRAWL_CLUSTER_RATE_PER_PORTAL", 2.0),
            burst=settings.getfloat("NEWSCRAWL_CLUSTER_BURST", 1.0),
            concurrency=settings.getint("NEWSCRAWL_CLUSTER_CONCURRENCY_PER_PORTAL", 4),
            # A lease outlives any download; after that it is a dead worker's and frees itself.
            lease_seconds=settings.getfloat("DOWNLOAD_TIMEOUT", 180) + 10,
        )
        return cls(crawler, bucket)

    async def process_request(self, request: Request) -> None:
        portal = host_of(request.url)
        self._serial += 1
        lease = f"{self.worker}:{self._serial}"
        stats = self.crawler.stats
        assert stats is not None
        try:
            while (wait := self.bucket.try_acquire(portal, lease)) > 0:
                stats.inc_value("newscrawl/cluster/throttle_waits")
                await sleep(wait)
        except REDIS_DOWN as exc:
            redis_lost(self.crawler, exc)
            raise IgnoreRequest("Redis unreachable: no politeness token") from None
        request.meta[LEASE_META] = (portal, lease)

    def process_response(self, request: Request, response: Response) -> Response:
        self._release(request)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        self._release(request)

    def _release(self, request: Request) -> None:
        held: Any = request.meta.pop(LEASE_META, None)
        if held is None:
            return
        try:
            self.bucket.release(*held)
        except REDIS_DOWN as exc:
            redis_lost(self.crawler, exc)
