"""Several real ``scrapy crawl ippen`` workers on one Redis queue and one PostgreSQL store."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
import redis

from newscrawl.cluster.config import CLUSTER_SOURCES_ANSWERED, Keys
from newscrawl.cluster.lock import HEARTBEAT_TTL_MS, join_run, run_spec
from newscrawl.progress.report import sources_answered
from tests.cluster_support import cluster_prefix, redis_client
from tests.cluster_workers import (
    article_fetches,
    assert_clean,
    finish,
    row_counts,
    run_workers,
    served_times,
    start_worker,
)
from tests.crawling import stored_articles
from tests.dbs import empty_postgres
from tests.mocknet import MockNetwork

__all__ = ["cluster_prefix", "redis_client"]  # fixtures, imported for pytest


@pytest.mark.parametrize("workers", [2, 3])
def test_workers_fetch_each_article_once_and_store_the_full_set(
    workers: int,
    mock_network: MockNetwork,
    pg_url: str,
    cluster_prefix: str,
    redis_client: redis.Redis,
    tmp_path: Path,
) -> None:
    empty_postgres(pg_url)
    mock_network.reset_requests()
    results = run_workers(
        mock_network, pg_url, tmp_path, cluster_prefix, workers,
        # Slow enough that every worker is up before the crawl is over, also when a
        # loaded CI machine takes seconds to start one (a CI run once ended before the
        # second worker took a request at 4/s, and once more at 2/s, after each worker
        # began starting a writer process while the others were still starting up).
        "-s", "NEWSCRAWL_CLUSTER_RATE_PER_PORTAL=1",
    )  # fmt: skip
    assert_clean(results)
    fetched = article_fetches(mock_network)
    assert max(fetched.values()) == 1, [url for url, n in fetched.items() if n > 1]
    assert set(stored_articles(pg_url)) == mock_network.expected_urls
    assert row_counts(pg_url) == (len(mock_network.expected_urls),) * 2
    seeded = [r.stats.get("newscrawl/cluster/seeded") for r in results]
    assert sorted(seeded) == [0.0] * (workers - 1) + [1.0]
    # The whole cluster did the crawl, not one worker while the others left at once.
    assert sum(1 for r in results if r.stats.get("scheduler/dequeued/redis", 0) > 0) >= 2
    # Each worker judged the run's sources by the whole run's count (its exit status).
    answered = sum(sources_answered(r.stats) for r in results)
    assert answered > 0
    assert [r.stats.get(CLUSTER_SOURCES_ANSWERED) for r in results] == [answered] * workers
    assert not redis_client.exists(f"{cluster_prefix}:run")  # the last worker ended the run
    assert not list(redis_client.scan_iter(match=f"{cluster_prefix}:run:*"))


def test_portal_rate_holds_for_the_cluster(
    mock_network: MockNetwork, pg_url: str, cluster_prefix: str, tmp_path: Path
) -> None:
    rate = 2.0
    empty_postgres(pg_url)
    mock_network.reset_requests()
    results = run_workers(
        mock_network, pg_url, tmp_path, cluster_prefix, 2,
        "-s", f"NEWSCRAWL_CLUSTER_RATE_PER_PORTAL={rate}",
    )  # fmt: skip
    assert_clean(results)
    by_portal: dict[str, list[float]] = {}
    for ip, at in served_times(mock_network):
        by_portal.setdefault(ip, []).append(at)
    busiest = max(by_portal.values(), key=len)
    assert len(busiest) >= 10, "enough requests to measure a rate"
    for times in by_portal.values():
        times.sort()
        window = 3.0
        worst = max(sum(1 for t in times if s <= t < s + window) for s in times)
        # rate x window, the one stored token, and one for the server's clock resolution
        assert worst <= rate * window + 2, (worst, times)
    span = busiest[-1] - busiest[0]
    assert len(busiest) / span <= rate * 1.1 + 1 / span


def test_killed_worker_loses_nothing_for_good(
    mock_network: MockNetwork,
    pg_url: str,
    cluster_prefix: str,
    redis_client: redis.Redis,
    tmp_path: Path,
) -> None:
    empty_postgres(pg_url)
    mock_network.reset_requests()
    slow = ("-s", "NEWSCRAWL_CLUSTER_RATE_PER_PORTAL=3")
    workers = [
        start_worker(mock_network, pg_url, tmp_path, cluster_prefix, *slow) for _ in range(3)
    ]
    victim = workers[0][0]
    deadline = time.monotonic() + 120
    while sum(article_fetches(mock_network).values()) < 8:  # mid-crawl
        assert time.monotonic() < deadline, "the crawl never got going"
        time.sleep(0.1)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    assert_clean([finish(*worker) for worker in workers[1:]])
    # The dead worker counts as a member until its heartbeat expires (HEARTBEAT_TTL_MS):
    # survivors that finish sooner rightly leave the run to it. Wait for the expiry, so
    # that the next worker resumes a run whose members are all gone.
    deadline = time.monotonic() + HEARTBEAT_TTL_MS / 1000 + 10
    while list(redis_client.scan_iter(match=f"{cluster_prefix}:run:*:worker:*")):
        assert time.monotonic() < deadline, "the dead worker's heartbeat never expired"
        time.sleep(0.2)
    # One more run (one worker is enough) rediscovers whatever the dead worker held.
    fast = ("-s", "NEWSCRAWL_CLUSTER_RATE_PER_PORTAL=50")
    assert_clean(run_workers(mock_network, pg_url, tmp_path, cluster_prefix, 1, *fast))
    assert not redis_client.exists(f"{cluster_prefix}:run")  # its last worker ended the run
    assert set(stored_articles(pg_url)) == mock_network.expected_urls
    assert row_counts(pg_url) == (len(mock_network.expected_urls),) * 2


def test_bad_setups_fail_at_start_with_one_line(
    mock_network: MockNetwork,
    pg_url: str,
    cluster_prefix: str,
    redis_client: redis.Redis,
    tmp_path: Path,
) -> None:
    sqlite = finish(*start_worker(mock_network, f"sqlite:///{tmp_path}/x.db", tmp_path, "p"))
    assert sqlite.returncode == 2
    assert sqlite.stderr.splitlines() == [
        "newscrawl: error: NEWSCRAWL_REDIS_URL needs a PostgreSQL store shared by all workers, "
        "not sqlite (set NEWSCRAWL_DATABASE_URL=postgresql+psycopg://...)"
    ]
    down = finish(
        *start_worker(mock_network, pg_url, tmp_path, "p", redis_url="redis://127.0.0.1:1/0")
    )
    assert down.returncode == 1
    assert len(down.stderr.splitlines()) == 1
    assert down.stderr.startswith(
        "newscrawl: error: Redis at redis://127.0.0.1:1/0 is unreachable: "
    )
    other = join_run(redis_client, Keys(cluster_prefix), run_spec({"sites": "fr.de"}), "w")
    try:
        held = finish(*start_worker(mock_network, pg_url, tmp_path, cluster_prefix))
    finally:
        other.leave()
    assert held.returncode == 75
    assert held.stderr.startswith(f"newscrawl: error: cluster run {other.keys.run} (started ")
    assert len(held.stderr.splitlines()) == 1
