"""The cluster's parts against the machine's real Redis (and PostgreSQL for the store lock)."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
from scrapy import Request
from scrapy.exceptions import NotConfigured
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from newscrawl.cluster import RedisClusterAddon, check_settings, cluster_lock
from newscrawl.cluster.config import Keys
from newscrawl.cluster.lock import join_run, run_spec
from newscrawl.cluster.scheduler import ClusterScheduler
from newscrawl.cluster.seeding import SeedOnceMiddleware, claim_seeding
from newscrawl.cluster.throttle import PortalBucket
from newscrawl.spiders.ippen import LASTMOD, IppenSpider
from newscrawl.store.lock import LockHeld, crawl_lock
from tests.cluster_support import REDIS_SERVER, cluster_prefix, redis_client

__all__ = ["cluster_prefix", "redis_client"]  # fixtures, imported for pytest

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


# --- settings and the add-on -----------------------------------------------------------


def test_sqlite_store_with_redis_is_a_one_line_error() -> None:
    settings = Settings(
        {"NEWSCRAWL_REDIS_URL": REDIS_SERVER, "NEWSCRAWL_DATABASE_URL": "sqlite:///x.db"}
    )
    with pytest.raises(ValueError) as error:
        check_settings(settings)
    assert str(error.value) == (
        "NEWSCRAWL_REDIS_URL needs a PostgreSQL store shared by all workers, not sqlite "
        "(set NEWSCRAWL_DATABASE_URL=postgresql+psycopg://...)"
    )


def test_standalone_or_postgresql_settings_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSCRAWL_REDIS_URL", raising=False)
    check_settings(Settings({"NEWSCRAWL_DATABASE_URL": "sqlite:///x.db"}))
    check_settings(Settings({"NEWSCRAWL_REDIS_URL": REDIS_SERVER, "NEWSCRAWL_DATABASE_URL": PG}))


def test_environment_variable_switches_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSCRAWL_REDIS_URL", REDIS_SERVER)
    with pytest.raises(ValueError, match="not sqlite"):
        check_settings(Settings({"NEWSCRAWL_DATABASE_URL": "sqlite:///x.db"}))


def test_addon_is_off_without_redis_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSCRAWL_REDIS_URL", raising=False)
    settings = Settings({"SCHEDULER": "scrapy.core.scheduler.Scheduler"})
    with pytest.raises(NotConfigured) as off:
        RedisClusterAddon().update_settings(settings)
    assert off.value.args == ()  # silent: nothing logged for a standalone crawl
    assert settings["SCHEDULER"] == "scrapy.core.scheduler.Scheduler"


def test_addon_outside_the_crawl_command_runs_standalone() -> None:
    settings = Settings({"NEWSCRAWL_REDIS_URL": REDIS_SERVER})
    with pytest.raises(NotConfigured, match="only `scrapy crawl` joins the cluster"):
        RedisClusterAddon().update_settings(settings)


def test_addon_switches_scheduler_dupefilter_and_components() -> None:
    crawler = get_crawler(
        IppenSpider,
        {
            "ADDONS": {RedisClusterAddon: 0},
            "NEWSCRAWL_REDIS_URL": REDIS_SERVER,
            "NEWSCRAWL_CLUSTER_RUN": "R1",
            "NEWSCRAWL_CLUSTER_PREFIX": "nc",
        },
    )
    s = crawler.settings
    assert s["SCHEDULER"] == "newscrawl.cluster.scheduler.ClusterScheduler"
    assert s["DUPEFILTER_CLASS"] == "newscrawl.cluster.scheduler.ClusterDupeFilter"
    assert s["REDIS_URL"] == REDIS_SERVER
    assert s["SCHEDULER_QUEUE_KEY"] == "nc:run:R1:requests"
    assert s["SCHEDULER_DUPEFILTER_KEY"] == "nc:run:R1:dupefilter"
    assert s.getbool("SCHEDULER_PERSIST") is True
    assert (
        s.getdict("DOWNLOADER_MIDDLEWARES")["newscrawl.cluster.throttle.ClusterThrottleMiddleware"]
        == 950
    )
    assert s.getdict("SPIDER_MIDDLEWARES")["newscrawl.cluster.seeding.SeedOnceMiddleware"] == 0
    assert s.getdict("EXTENSIONS")["newscrawl.cluster.worker.ClusterWorker"] == 0


# --- scrapy-redis with newscrawl's spider ----------------------------------------------------


@pytest.fixture
def opened_scheduler(cluster_prefix: str) -> Iterator[tuple[ClusterScheduler, IppenSpider]]:
    crawler = get_crawler(
        IppenSpider,
        {
            "ADDONS": {RedisClusterAddon: 0},
            "NEWSCRAWL_REDIS_URL": REDIS_SERVER,
            "NEWSCRAWL_CLUSTER_RUN": "R1",
            "NEWSCRAWL_CLUSTER_WORKER": "w1",
            "NEWSCRAWL_CLUSTER_PREFIX": cluster_prefix,
        },
    )
    spider = IppenSpider.from_crawler(crawler)
    crawler.spider = spider
    scheduler = ClusterScheduler.from_crawler(crawler)
    scheduler.open(spider)
    yield scheduler, spider
    scheduler.close("finished")


async def _start_requests(spider: IppenSpider) -> list[Request]:
    return [request async for request in spider.start()]


def test_requests_cross_the_shared_queue_with_callbacks_by_name(
    opened_scheduler: tuple[ClusterScheduler, IppenSpider],
) -> None:
    import asyncio

    scheduler, spider = opened_scheduler
    sources = asyncio.run(_start_requests(spider))
    assert sources, "the shipped registry has sources"
    lastmod = datetime(2024, 5, 1, 8, tzinfo=UTC)
    article = Request(
        "https://www.fr.de/politik/x-93036630.html",
        callback=spider.parse_article,
        meta={LASTMOD: lastmod, "newscrawl_article": True},
    )
    for request in [*sources, article]:
        assert scheduler.enqueue_request(request) is True
    popped = []
    while (request := scheduler.next_request()) is not None:
        popped.append(request)
    by_url = {r.url: r for r in popped}
    assert len(popped) == len(sources) + 1
    for source in sources:
        back = by_url[source.url]
        assert back.callback == source.callback  # bound methods of the same spider
        assert back.errback == spider.source_failed
        assert back.dont_filter is True
    assert by_url[article.url].callback == spider.parse_article
    assert by_url[article.url].meta[LASTMOD] == lastmod


def test_shared_dupefilter_uses_scrapys_fingerprinter(
    opened_scheduler: tuple[ClusterScheduler, IppenSpider], redis_client: redis.Redis
) -> None:
    scheduler, spider = opened_scheduler
    request = Request("https://www.fr.de/politik/x-93036630.html", callback=spider.parse_article)
    assert scheduler.enqueue_request(request) is True
    assert scheduler.enqueue_request(request.replace()) is False  # seen, cluster-wide
    fingerprint = spider.crawler.request_fingerprinter.fingerprint(request).hex()
    members = redis_client.smembers(scheduler.df.key)
    assert members == {fingerprint.encode()}
    assert scheduler.queued() == 1


# --- seeding once ----------------------------------------------------------------------------


def test_exactly_one_of_many_workers_seeds(redis_client: redis.Redis, cluster_prefix: str) -> None:
    keys = Keys(cluster_prefix, "R1")
    with ThreadPoolExecutor(8) as pool:
        won = list(pool.map(lambda n: claim_seeding(redis_client, keys, f"w{n}"), range(16)))
    assert won.count(True) == 1
    assert 0 < redis_client.ttl(keys.seeded) <= 7 * 24 * 3600
    assert claim_seeding(redis_client, Keys(cluster_prefix, "R2"), "w0") is True  # next run


def _seed_middleware(prefix: str, worker: str) -> tuple[SeedOnceMiddleware, Any]:
    crawler = get_crawler(
        IppenSpider,
        {
            "ADDONS": {RedisClusterAddon: 0},
            "NEWSCRAWL_REDIS_URL": REDIS_SERVER,
            "NEWSCRAWL_CLUSTER_RUN": "R1",
            "NEWSCRAWL_CLUSTER_WORKER": worker,
            "NEWSCRAWL_CLUSTER_PREFIX": prefix,
        },
    )
    crawler.stats.open_spider()
    return SeedOnceMiddleware.from_crawler(crawler), crawler


def test_second_worker_drops_its_sources(cluster_prefix: str) -> None:
    import asyncio

    async def through(middleware: SeedOnceMiddleware) -> list[str]:
        async def start() -> Any:
            for n in range(3):
                yield Request(f"http://127.0.0.1/source-{n}")

        return [r.url async for r in middleware.process_start(start())]

    first, first_crawler = _seed_middleware(cluster_prefix, "w1")
    second, second_crawler = _seed_middleware(cluster_prefix, "w2")
    assert asyncio.run(through(first)) == [f"http://127.0.0.1/source-{n}" for n in range(3)]
    assert asyncio.run(through(second)) == []
    assert first_crawler.stats.get_value("newscrawl/cluster/seeded") == 1
    assert second_crawler.stats.get_value("newscrawl/cluster/seeded") == 0


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
