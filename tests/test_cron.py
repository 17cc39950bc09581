"""Safe under cron: the lock, the exit statuses and the last log line, with real processes."""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from newscrawl.store import make_engine, migrate
from tests.crawling import REPO_ROOT, crawl, crawl_command
from tests.dbs import empty_postgres
from tests.mocknet import MockNetwork
from tests.proctree import WORKER_PROCESSES, CrawlTree, crawl_tree, wait_gone

# With worker processes: the lock must not outlive its holder, nor any of its processes.
SLOW = ("-s", "DOWNLOAD_DELAY=0.5", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1", *WORKER_PROCESSES)


def start_crawl(registry: Path, database: str, log: Path) -> subprocess.Popen[bytes]:
    command = crawl_command(registry, database, log.parent, log, *SLOW)
    process = subprocess.Popen(command, cwd=REPO_ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if log.exists() and "Spider opened" in log.read_text(encoding="utf-8"):
            return process
        time.sleep(0.1)
    process.kill()
    process.wait()
    raise AssertionError("the first crawl did not start")


def wait_for_writer(process: subprocess.Popen[bytes]) -> CrawlTree:
    """The crawl's tree once its fork server, resource tracker and writer are up."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        tree = crawl_tree(process.pid)
        assert tree is not None, "the first crawl ended before it was killed"
        if tree.fork_server and tree.resource_tracker and tree.writers:
            return tree
        time.sleep(0.05)
    raise AssertionError("the first crawl's writer did not start")


def test_second_crawl_exits_75_and_a_dead_holders_lock_is_taken_over(
    mock_network: MockNetwork, db_url: str, tmp_path: Path
) -> None:
    first = start_crawl(mock_network.registry_path, db_url, tmp_path / "first.log")
    try:
        second = crawl(mock_network.registry_path, db_url, tmp_path)
        assert second.returncode == 75
        assert second.stderr.startswith("newscrawl: error: another crawl ")
        assert second.stderr.endswith(" is running on this database\n")
        assert second.stderr.count("\n") == 1
        assert "Spider opened" not in second.log
        tree = wait_for_writer(first)
    finally:
        first.kill()  # SIGKILL: the lock must not outlive its holder, nor its processes
        first.wait()
    assert wait_gone(tree.procs, 10) == []
    third = crawl(mock_network.registry_path, db_url, tmp_path)
    assert third.returncode == 0, third.log[-3000:]


def test_no_reachable_source_exits_1_with_a_summary(tmp_path: Path) -> None:
    registry = tmp_path / "sites.toml"
    registry.write_text(
        '[[sites]]\ndomain = "fr.de"\nname = "nobody home"\nbase_url = "http://127.0.0.2:9"\n'
        'feeds = ["/rssfeed.rdf"]\nsitemaps = ["/news.xml"]\n',
        encoding="utf-8",
    )
    result = crawl(registry, f"sqlite:///{tmp_path / 'news.db'}", tmp_path, "-s", "RETRY_TIMES=0")
    assert result.returncode == 1
    last_line = result.log.strip().splitlines()[-1]
    assert last_line.endswith(
        "newscrawl summary: new=0 updated=0 unchanged=0 duplicates=0 failed=0 deadletter=0 "
        f"duration={result.stats['elapsed_time_seconds']:.1f}s finish_reason=finished exit=1 "
        "reason=no_source_answered"
    )
    assert result.stats["newscrawl/source/failed"] == 3  # robots.txt is Scrapy's, not a source
    # Scrapy logs the failed robots.txt with a traceback; the host being down is one line.
    assert "Traceback" not in result.log
    assert (
        result.log.count(
            "[scrapy.downloadermiddlewares.robotstxt] ERROR: Error downloading "
            "<GET http://127.0.0.2:9/news.xml>: "
        )
        == 1
    )


@pytest.mark.parametrize("argument", ["since=gestern", "sites="])
def test_bad_arguments_exit_2_in_one_line(argument: str, tmp_path: Path) -> None:
    result = crawl(Path("newscrawl/sites.toml"), f"sqlite:///{tmp_path}/n.db", tmp_path,
                   "-a", argument)  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.startswith("newscrawl: error: ")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_unreachable_database_exits_1_without_password(tmp_path: Path) -> None:
    url = "postgresql+psycopg://crawler:hunter2@127.0.0.1:9/news"
    result = crawl(Path("newscrawl/sites.toml"), url, tmp_path, "-a", "sites=fr.de")
    assert result.returncode == 1
    assert result.stderr.startswith("newscrawl: error: database: ")
    assert result.stderr.count("\n") == 1
    assert result.log.strip().endswith("newscrawl summary: exit=1 reason=database_unreachable")
    assert "hunter2" not in result.stderr + result.stdout + result.log


def test_items_the_database_refuses_go_to_the_deadletter_file_and_exit_3(
    mock_network: MockNetwork, pg_url: str, tmp_path: Path
) -> None:
    """A role that may read but not write: every batch fails, nothing is lost."""
    empty_postgres(pg_url)
    migrate(pg_url)
    role = f"reader_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD 'hunter2'"))
        connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
        connection.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"))
    try:
        url = pg_url.replace("postgres@", f"{role}:hunter2@")
        result = crawl(mock_network.registry_path, url, tmp_path, "-s", "NEWSCRAWL_STORE_RETRIES=1",
                       "-s", "NEWSCRAWL_STORE_BACKOFF=0.1")  # fmt: skip
        assert result.returncode == 3, result.log[-3000:]
        lines = (tmp_path / "deadletter.jsonl").read_text(encoding="utf-8").splitlines()
        assert len(lines) == len(mock_network.expected_urls) + 1  # + the syndicated copy
        assert f"deadletter={len(lines)}" in result.log.strip().splitlines()[-1]
        assert "hunter2" not in result.log + result.stderr + result.stdout
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP OWNED BY {role}"))
            connection.execute(text(f"DROP ROLE {role}"))
        admin.dispose()
    engine = make_engine(pg_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM articles")).scalar_one() == 0
    engine.dispose()
