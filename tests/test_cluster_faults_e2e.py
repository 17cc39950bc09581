"""Cluster workers when Redis or PostgreSQL goes away mid-run (the faults of
``test_cluster_e2e.py``'s setup)."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from tests.cluster_support import cluster_prefix, redis_client
from tests.cluster_workers import (
    article_fetches,
    assert_clean,
    finish,
    row_counts,
    start_worker,
)
from tests.crawling import stored_articles
from tests.dbs import empty_postgres
from tests.faultkit import run_opened, start, wait_until
from tests.mocknet import MockNetwork
from tests.test_store_outage import OwnPostgres, own_postgres

__all__ = ["cluster_prefix", "own_postgres", "redis_client"]  # fixtures, imported for pytest


def wait_for_redis(client: redis.Redis, failure: str) -> None:
    """Until a Redis server (just started) answers a ping, for at most 10 s."""
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            return
        except redis.ConnectionError:
            assert time.monotonic() < deadline, failure
            time.sleep(0.05)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A Redis of this test's own, to be stopped under a running worker."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    wait_for_redis(redis.Redis(port=port), "redis-server did not start")
    yield server, f"redis://127.0.0.1:{port}/0"
    server.kill()
    server.wait()


def _start_then_lose_redis(
    mock_network: MockNetwork,
    pg_url: str,
    server: subprocess.Popen[bytes],
    url: str,
    tmp_path: Path,
    name: str,
) -> tuple[subprocess.Popen[bytes], Path]:
    """A worker on an empty store, and its Redis stopped once six article pages came in."""
    empty_postgres(pg_url)
    mock_network.reset_requests()
    worker = start_worker(
        mock_network, pg_url, tmp_path, name, "-s", "NEWSCRAWL_CLUSTER_RATE_PER_PORTAL=2",
        redis_url=url,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while sum(article_fetches(mock_network).values()) < 6:
        assert time.monotonic() < deadline, "the crawl never got going"
        time.sleep(0.1)
    server.terminate()
    return worker


def test_redis_lost_mid_run_stops_the_worker_and_keeps_what_it_extracted(
    mock_network: MockNetwork,
    pg_url: str,
    private_redis: tuple[subprocess.Popen[bytes], str],
    tmp_path: Path,
) -> None:
    server, url = private_redis
    worker = _start_then_lose_redis(mock_network, pg_url, server, url, tmp_path, "lost")
    result = finish(*worker, timeout=120)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "newscrawl: error: Redis went away mid-run; this worker stopped"
    ]
    assert "Traceback" not in result.log
    assert result.log.count("Redis unreachable (") == 1
    assert result.stats["newscrawl/cluster/redis_unavailable"] == 1
    scraped = result.stats.get("item_scraped_count", 0)
    deadletter = tmp_path / "deadletter.jsonl"
    dead = len(deadletter.read_text().splitlines()) if deadletter.exists() else 0
    assert scraped >= 1
    # Every item it extracted is accounted for: written (a syndicated copy as a
    # duplicate of its story's row) or in the dead-letter file.
    written = {status: int(result.stats.get(f"newscrawl/store/{status}", 0))
               for status in ("new", "updated", "unchanged", "duplicate", "failed")}  # fmt: skip
    assert sum(written.values()) + dead == scraped, written
    assert len(stored_articles(pg_url)) == written["new"]


def test_redis_lost_mid_run_and_back_the_next_run_stores_every_story_once(
    mock_network: MockNetwork,
    pg_url: str,
    private_redis: tuple[subprocess.Popen[bytes], str],
    tmp_path: Path,
) -> None:
    """Was: 148 of 150 after a re-run. Redis goes away mid-run (its data with it, as a
    restart without persistence does) and comes back on the same address; the worker
    stopped with what it had, and one more run completes the set, each story once."""
    server, url = private_redis
    worker = _start_then_lose_redis(mock_network, pg_url, server, url, tmp_path, "back")
    server.wait()
    assert finish(*worker, timeout=120).returncode == 1
    assert len(stored_articles(pg_url)) < len(mock_network.expected_urls)
    port = url.rsplit(":", 1)[1].split("/")[0]
    back = subprocess.Popen(
        ["redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_redis(redis.Redis.from_url(url), "redis-server did not come back")
        fast = ("-s", "NEWSCRAWL_CLUSTER_RATE_PER_PORTAL=50")
        rerun = finish(*start_worker(mock_network, pg_url, tmp_path, "back", *fast, redis_url=url))
    finally:
        back.kill()
        back.wait()
    assert_clean([rerun])
    assert set(stored_articles(pg_url)) == mock_network.expected_urls
    assert row_counts(pg_url) == (len(mock_network.expected_urls),) * 2


def test_a_workers_share_of_the_crawl_lock_is_taken_again_after_a_postgresql_restart(
    mock_network_factory: Callable[..., MockNetwork],
    request: pytest.FixtureRequest,
    cluster_prefix: str,
    tmp_path: Path,
) -> None:
    """Was: the worker's shared advisory lock died with its session in a restart, and a
    standalone crawl started afterwards ran beside the cluster on the same store."""
    server: OwnPostgres = request.getfixturevalue("own_postgres")
    net = mock_network_factory(articles_per_portal=10, seed=43)
    worker, log_file = start_worker(
        net, server.url, tmp_path, cluster_prefix, "-s", "NEWSCRAWL_CLUSTER_RATE_PER_PORTAL=3"
    )
    wait_until(lambda: run_opened(server.url), "the worker opened its run")
    server.stop()
    server.start()
    wait_until(
        lambda: "crawl lock taken again" in log_file.read_text(encoding="utf-8"),
        "the worker took its share of the lock again",
        30,
    )
    standalone = start(net, server.url, tmp_path, "standalone")
    assert standalone.process.wait(timeout=120) == 75
    assert standalone.stderr.read_text(encoding="utf-8").startswith(
        "newscrawl: error: another crawl"
    )
    result = finish(worker, log_file)
    assert_clean([result])
    assert "Traceback" not in standalone.text()
