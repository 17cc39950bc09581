"""The cluster's runs, locks and politeness against the machine's real Redis (and
PostgreSQL for the store lock)."""

from __future__ import annotations

import multiprocessing
import time
from typing import Any

import pytest
import redis
from scrapy.settings import Settings

from newscrawl.cluster import cluster_lock
from newscrawl.cluster.config import Keys
from newscrawl.cluster.lock import join_run, run_spec
from newscrawl.cluster.throttle import PortalBucket
from newscrawl.store.lock import LockHeld, crawl_lock
from tests.cluster_support import REDIS_SERVER, cluster_prefix, redis_client

__all__ = ["cluster_prefix", "redis_client"]  # fixtures, imported for pytest


# --- the cluster lock ------------------------------------------------------------------------


def test_run_is_joined_by_same_arguments_and_refused_to_others(
    redis_client: redis.Redis, cluster_prefix: str
) -> None:
    keys = Keys(cluster_prefix)
    spec = run_spec({"sites": "fr.de"})
    first = join_run(redis_client, keys, spec, "w1")
    second = join_run(redis_client, keys, spec, "w2")
    assert (first.status, second.status) == ("created", "joined")
    assert first.keys.run == second.keys.run
    with pytest.raises(LockHeld, match=rf"cluster run {first.keys.run} .* cannot join it"):
        join_run(redis_client, keys, run_spec({"sites": "merkur.de"}), "w3")
    assert first.leave() == "left"  # w2 still alive
    assert second.leave() == "ended"  # last one, queue empty
    assert not redis_client.exists(keys.current_run)
    third = join_run(redis_client, keys, spec, "w4")
    assert third.status == "created" and third.keys.run != first.keys.run
    third.leave()


def test_run_with_work_left_outlives_its_workers_and_resumes(
    redis_client: redis.Redis, cluster_prefix: str
) -> None:
    keys = Keys(cluster_prefix)
    spec = run_spec({})
    first = join_run(redis_client, keys, spec, "w1")
    redis_client.zadd(first.keys.requests, {b"pending": 0})
    redis_client.sadd(first.keys.dupefilter, b"taken-by-a-dead-worker")
    redis_client.set(first.keys.seeded, b"1")
    assert first.leave() == "left"  # interrupted with work queued: kept for the next worker
    again = join_run(redis_client, keys, spec, "w2")
    assert (again.status, again.keys.run) == ("resumed", first.keys.run)
    assert redis_client.zcard(again.keys.requests) == 1
    # What the dead workers had taken is found again: the filter is forgotten, the
    # resuming worker seeds the run anew.
    assert not redis_client.exists(again.keys.dupefilter, again.keys.seeded)


def test_dead_workers_run_is_replaced_by_other_arguments(
    redis_client: redis.Redis, cluster_prefix: str
) -> None:
    keys = Keys(cluster_prefix)
    dead = join_run(redis_client, keys, run_spec({}), "w1")
    redis_client.zadd(dead.keys.requests, {b"pending": 0})
    redis_client.delete(dead.keys.worker("w1"))  # its heartbeat expired: SIGKILLed
    new = join_run(redis_client, keys, run_spec({"sites": "tz.de"}), "w2")
    assert new.status == "created" and new.keys.run != dead.keys.run
    assert not redis_client.exists(dead.keys.requests)
    new.leave()


def test_cluster_workers_share_the_store_lock_a_standalone_crawl_is_refused(
    cluster_prefix: str, pg_url: str
) -> None:
    settings = [
        Settings(
            {
                "NEWSCRAWL_REDIS_URL": REDIS_SERVER,
                "NEWSCRAWL_DATABASE_URL": pg_url,
                "NEWSCRAWL_CLUSTER_PREFIX": cluster_prefix,
            }
        )
        for _ in range(2)
    ]
    with cluster_lock(settings[0], {}), cluster_lock(settings[1], {}):
        assert settings[0]["NEWSCRAWL_CLUSTER_RUN"] == settings[1]["NEWSCRAWL_CLUSTER_RUN"]
        assert settings[0]["NEWSCRAWL_CLUSTER_WORKER"] != settings[1]["NEWSCRAWL_CLUSTER_WORKER"]
        with (
            pytest.raises(LockHeld, match="another crawl is running on this database"),
            crawl_lock(pg_url),
        ):
            pass
    with (
        crawl_lock(pg_url),
        pytest.raises(LockHeld, match="a crawl outside the cluster is running"),
        cluster_lock(settings[0], {}),
    ):
        pass


# --- politeness --------------------------------------------------------------------------------

RATE, DURATION = 8.0, 3.0


def _hammer(prefix: str, worker: str, until: float, queue: Any) -> None:
    client = redis.Redis.from_url(REDIS_SERVER)
    bucket = PortalBucket(client, Keys(prefix), rate=RATE)
    granted = []
    n = 0
    while time.time() < until:
        n += 1
        wait = bucket.try_acquire("127.0.0.9", f"{worker}:{n}")
        if wait == 0:
            granted.append(time.time())
        else:
            time.sleep(min(wait, 0.01))  # impatient on purpose: ask far more often than allowed
    queue.put(granted)


def test_two_processes_together_stay_under_the_portal_rate(cluster_prefix: str) -> None:
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    until = time.time() + DURATION + 0.5
    workers = [
        context.Process(target=_hammer, args=(cluster_prefix, f"w{n}", until, queue))
        for n in range(2)
    ]
    for worker in workers:
        worker.start()
    per_worker = [queue.get(timeout=30) for _ in workers]
    for worker in workers:
        worker.join(10)
    assert all(per_worker), "both processes got tokens"
    times = sorted(t for granted in per_worker for t in granted)
    # Any window of DURATION seconds: at most rate x DURATION + the one stored token.
    worst = max(sum(1 for t in times if start <= t < start + DURATION) for start in times)
    assert worst <= RATE * DURATION + 1
    assert len(times) >= RATE * DURATION * 0.9  # and the rate is actually used


def test_concurrency_leases_limit_and_free(redis_client: redis.Redis, cluster_prefix: str) -> None:
    bucket = PortalBucket(redis_client, Keys(cluster_prefix), rate=1000, burst=10, concurrency=2)
    assert bucket.try_acquire("p", "a") == 0
    assert bucket.try_acquire("p", "b") == 0
    assert bucket.try_acquire("p", "c") == 0.05  # both slots taken: poll again shortly
    bucket.release("p", "a")
    assert bucket.try_acquire("p", "c") == 0
    expiring = PortalBucket(
        redis_client, Keys(cluster_prefix), rate=1000, burst=10, concurrency=1, lease_seconds=0.2
    )
    assert expiring.try_acquire("q", "dead-worker") == 0
    assert expiring.try_acquire("q", "x") == 0.05
    time.sleep(0.25)  # the dead worker's lease runs out by itself
    assert expiring.try_acquire("q", "x") == 0
