"""The database (a PostgreSQL server of the test's own) goes away mid-crawl: back while
the store still retries (exit 0, everything stored), or not back (exit 3, every item in
the dead-letter file, reimported into the database it was meant for)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.crawling import REPO_ROOT, CrawlResult, stored_articles
from tests.faultkit import (
    PACED,
    dead_letters,
    log_has,
    run_opened,
    run_statuses,
    start,
    summary_value,
    wait_until,
)
from tests.mocknet import MockNetwork
from tests.test_store_outage import OwnPostgres, own_postgres  # noqa: F401 (fixture)


def _stats(log: str) -> dict[str, float]:
    return CrawlResult(0, "", "", log).stats


def test_database_back_while_retrying_stores_everything_and_exits_0(
    mock_network_factory, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    server: OwnPostgres = request.getfixturevalue("own_postgres")
    net: MockNetwork = mock_network_factory(articles_per_portal=8, seed=51)
    crawl = start(net, server.url, tmp_path, "crawl", *PACED)
    wait_until(lambda: run_opened(server.url), "the run opened")
    server.stop()
    # Down until a write has failed and is being retried (4 retries: 1+2+4+8 s of patience).
    wait_until(log_has(crawl, "unavailable for write"), "a write was retried", 120)
    server.start()
    assert crawl.process.wait(timeout=240) == 0
    assert "Traceback" not in crawl.text()
    assert set(stored_articles(server.url)) == set(net.expected_urls)
    assert run_statuses(server.url) == ["finished"]
    assert not (tmp_path / "deadletter.jsonl").exists()


def test_database_not_back_exits_3_with_every_item_dead_lettered_then_reimported(
    mock_network_factory, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    server: OwnPostgres = request.getfixturevalue("own_postgres")
    net: MockNetwork = mock_network_factory(articles_per_portal=8, seed=52)
    give_up = ("-s", "NEWSCRAWL_STORE_RETRIES=1", "-s", "NEWSCRAWL_STORE_BACKOFF=0.1")
    crawl = start(net, server.url, tmp_path, "crawl", *PACED, *give_up)
    wait_until(lambda: run_opened(server.url), "the run opened")
    server.stop()
    assert crawl.process.wait(timeout=240) == 3
    log = crawl.log.read_text(encoding="utf-8")
    assert "Traceback" not in crawl.text()
    letters = dead_letters(tmp_path / "deadletter.jsonl")
    line = log.strip().splitlines()[-1]
    assert line.endswith("exit=3 reason=deadletter")
    assert len(letters) == summary_value(line, "deadletter") == _stats(log)["item_scraped_count"]
    assert {item["_database"] for item in letters} == {server.url}
    assert "Could not record the end of crawl run 1" in log

    server.start()
    done = subprocess.run(
        [sys.executable, "-m", "newscrawl.store", "reimport", str(tmp_path / "deadletter.jsonl")],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=120, check=False,
        env={**os.environ, "NEWSCRAWL_DATABASE_URL": server.url},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert set(stored_articles(server.url)) == set(net.expected_urls)
    assert run_statuses(server.url) == ["running"]  # until the next crawl marks it
