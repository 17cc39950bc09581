"""One crawl per database: two started together (exactly one runs, the other exits 75),
also after a PostgreSQL restart during the first; on different databases both run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faultkit import Background, log_has, run_opened, start, wait_until
from tests.mocknet import MockNetwork
from tests.test_store_outage import OwnPostgres, own_postgres  # noqa: F401 (fixture)

SLOWER = ("-s", "DOWNLOAD_DELAY=0.3", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1")


def _two_at_once(net: MockNetwork, tmp_path: Path, first: str, second: str) -> list[Background]:
    """Two crawls started one right after the other (well within 100 ms)."""
    return [start(net, first, tmp_path, "a", *SLOWER), start(net, second, tmp_path, "b", *SLOWER)]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_crawls_started_together_on_one_database_one_runs_the_other_exits_75(
    mock_network: MockNetwork, tmp_path: Path, request: pytest.FixtureRequest, backend: str
) -> None:
    database = (
        f"sqlite:///{tmp_path / 'news.db'}" if backend == "sqlite"
        else request.getfixturevalue("pg_url")
    )  # fmt: skip
    crawls = _two_at_once(mock_network, tmp_path, database, database)
    statuses = sorted(c.process.wait(timeout=240) for c in crawls)
    assert statuses == [0, 75]
    refused = next(c for c in crawls if c.process.returncode == 75)
    stderr = refused.stderr.read_text(encoding="utf-8")
    assert stderr.startswith("newscrawl: error: another crawl") and stderr.count("\n") == 1
    assert "Traceback" not in "".join(c.text() for c in crawls)


def test_two_crawls_on_different_databases_both_run(
    mock_network: MockNetwork, tmp_path: Path
) -> None:
    crawls = _two_at_once(
        mock_network, tmp_path, f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    )
    assert [c.process.wait(timeout=240) for c in crawls] == [0, 0]


def test_the_lock_is_taken_again_after_a_postgresql_restart(
    mock_network_factory, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Was: the advisory lock died with the session, and a crawl started after a 1 s
    restart ran beside the first."""
    server: OwnPostgres = request.getfixturevalue("own_postgres")
    net: MockNetwork = mock_network_factory(articles_per_portal=10, seed=41)
    first = start(net, server.url, tmp_path, "first", *SLOWER)
    wait_until(lambda: run_opened(server.url), "the first crawl opened its run")
    server.stop()
    server.start()
    wait_until(log_has(first, "crawl lock taken again"), "the lock was taken again", 30)
    second = start(net, server.url, tmp_path, "second", *SLOWER)
    assert second.process.wait(timeout=120) == 75
    assert first.process.wait(timeout=240) == 0
    assert "Traceback" not in first.text() + second.text()
