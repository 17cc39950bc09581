"""The cluster's settings, add-on, shared queue and seeding against the machine's real Redis."""

from __future__ import annotations

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

from newscrawl.cluster import RedisClusterAddon, check_settings
from newscrawl.cluster.config import Keys
from newscrawl.cluster.scheduler import ClusterScheduler
from newscrawl.cluster.seeding import SeedOnceMiddleware, claim_seeding
from newscrawl.spiders.ippen import LASTMOD, IppenSpider
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
