"""Several real ``scrapy crawl ippen`` workers on one Redis queue and one PostgreSQL store."""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text

from newscrawl.cluster.config import CLUSTER_SOURCES_ANSWERED, Keys
from newscrawl.cluster.lock import HEARTBEAT_TTL_MS, join_run, run_spec
from newscrawl.progress.report import sources_answered
from newscrawl.urls import article_id
from tests.cluster_support import REDIS_SERVER, cluster_prefix, redis_client
from tests.crawling import REPO_ROOT, CrawlResult, crawl_command, stored_articles
from tests.dbs import empty_postgres
from tests.faultkit import run_opened, start, wait_until
from tests.mocknet import MockNetwork
from tests.test_store_outage import OwnPostgres, own_postgres

__all__ = ["cluster_prefix", "own_postgres", "redis_client"]  # fixtures, imported for pytest

_worker_numbers = itertools.count()


def start_worker(
    net: MockNetwork,
    db_url: str,
    workdir: Path,
    prefix: str,
    *args: str,
    redis_url: str = REDIS_SERVER,
) -> tuple[subprocess.Popen[bytes], Path]:
    log_file = workdir / f"worker-{next(_worker_numbers)}.log"
    command = crawl_command(
        net.registry_path, db_url, workdir, log_file,
        "-s", f"NEWSCRAWL_CLUSTER_PREFIX={prefix}",
        # The mock's stories are dated 2024: a later run's window must still reach them.
        "-s", "NEWSCRAWL_INCREMENTAL_WINDOW_HOURS=200000",
        *args,
    )  # fmt: skip
    env = {**os.environ, "NEWSCRAWL_REDIS_URL": redis_url}
    with (
        log_file.with_suffix(".out").open("w") as out,
        log_file.with_suffix(".err").open("w") as err,
    ):
        # Its own process group: a SIGKILL then takes its extraction pool with it, as a
        # dying machine or an OOM kill of the whole unit would.
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=out, stderr=err, start_new_session=True
        )
    return process, log_file


def finish(process: subprocess.Popen[bytes], log_file: Path, timeout: float = 240) -> CrawlResult:
    try:
        process.wait(timeout=timeout)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    log = log_file.read_text(encoding="utf-8") if log_file.exists() else ""
    stdout, stderr = (log_file.with_suffix(s).read_text() for s in (".out", ".err"))
    return CrawlResult(process.returncode, stdout, stderr, log)


def run_workers(
    net: MockNetwork, db_url: str, workdir: Path, prefix: str, count: int, *args: str
) -> list[CrawlResult]:
    started = [start_worker(net, db_url, workdir, prefix, *args) for _ in range(count)]
    return [finish(*worker) for worker in started]


def article_fetches(net: MockNetwork) -> Counter[str]:
    """Successful GETs of article pages at the mock, per URL."""
    return Counter(
        r.url for r in net.requests() if r.method == "GET" and r.status < 500 and article_id(r.url)
    )


def served_times(net: MockNetwork) -> list[tuple[str, float]]:
    """(portal ip, time) of every request the mock served; its log records the time."""
    lines = (net.workdir / "requests.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if line.endswith("}")]
    return [(r["host"].rsplit(":", 1)[0], r["time"]) for r in records]


def row_counts(url: str) -> tuple[int, int]:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT count(*), count(DISTINCT url) FROM articles"))
        total, distinct = rows.one()
    engine.dispose()
    return total, distinct


def assert_clean(results: list[CrawlResult]) -> None:
    for result in results:
        assert result.returncode == 0, result.stderr[-2000:] + result.log[-3000:]
        assert "Traceback" not in result.log + result.stderr


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
