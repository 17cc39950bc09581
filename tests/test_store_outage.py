"""The database goes away mid-crawl: retries, dead letters, a failed run, re-import.

Uses a PostgreSQL server of its own (initdb + pg_ctl on a free port and a temp data
directory, as the ``postgres`` user when run as root); the shared server is untouched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from newscrawl.store import deadletter, make_engine
from newscrawl.store.models import Article, ArticleUrl, CrawlRun
from tests.dbs import _unavailable
from tests.test_store_pipeline import ROOT, run_crawl

PG_BIN = Path("/usr/lib/postgresql/15/bin")
COUNT = 80


class OwnPostgres:
    def __init__(self, directory: Path, port: int) -> None:
        self.directory, self.port = directory, port
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(PG_BIN / args[0]), *args[1:]]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        self._run("initdb", "-D", str(self.directory / "data"), "-A", "trust", "-U", "postgres")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        self._run("pg_ctl", "-D", str(self.directory / "data"), "-o", options,
                  "-l", str(self.directory / "log"), "-w", "start")  # fmt: skip

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.directory / "data"), "-m", "fast", "-w", "stop")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    if not (PG_BIN / "initdb").exists():
        _unavailable(f"no PostgreSQL binaries in {PG_BIN}")
    directory = Path(tempfile.mkdtemp(prefix="newscrawl-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    server = OwnPostgres(directory, _free_port())
    server.init()
    server.start()
    try:
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # stopped by the test
            server.stop()
        shutil.rmtree(directory, ignore_errors=True)


def _stored(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(Article)).scalar_one()
    except Exception:  # not created yet, or server down
        return 0
    finally:
        engine.dispose()


def _outage(server: OwnPostgres, after: int, down: Path, up: Path, letters: Path) -> None:
    """Stop the server once ``after`` items are stored, let the crawl go on (``down``)
    until a batch is in the dead-letter file, start it and only then let the crawl end
    (``up``). Was: a fixed 2.5 s outage, and a crawl slowed by load ended while the server
    was still down, so its run row could not be closed (``running``, not ``failed``)."""
    deadline = time.monotonic() + 120
    while _stored(server.url) < after and time.monotonic() < deadline:
        time.sleep(0.05)
    server.stop()
    down.touch()
    while not (letters.exists() and letters.stat().st_size) and time.monotonic() < deadline:
        time.sleep(0.05)
    server.start()
    up.touch()


def test_outage_dead_letters_then_reimport(own_postgres: OwnPostgres, tmp_path: Path) -> None:
    # Items arrive in batches of 5; the server goes down after 20 are in; item 20 waits for
    # it to be down and item 40 for it to be back, so the crawl cannot end mid-outage.
    down, up = tmp_path / "down", tmp_path / "up"
    letters = tmp_path / "deadletter.jsonl"
    outage = threading.Thread(target=_outage, args=(own_postgres, 20, down, up, letters))
    outage.start()
    stats, log = run_crawl(
        own_postgres.url, tmp_path, count=COUNT, delay=0.1,
        pauses=((20, str(down)), (40, str(up))),
        NEWSCRAWL_STORE_BATCH_SIZE=5, NEWSCRAWL_STORE_RETRIES=1, NEWSCRAWL_STORE_BACKOFF=0.2,
    )  # fmt: skip
    outage.join()
    lost = stats["newscrawl/store/deadletter"]
    assert lost > 0
    stored = stats["newscrawl/store/new"] + stats.get("newscrawl/store/unchanged", 0)
    assert stored + lost + stats["newscrawl/store/failed/missing_url"] == COUNT + 2
    assert "retry 1/1" in log
    path = tmp_path / "deadletter.jsonl"
    assert f"{lost} items could not be stored" in log and str(path) in log
    lines = list(deadletter.read(path))
    assert len(lines) == lost
    assert lines[0][1]["fetched_at"].endswith("+00:00")  # ISO datetimes
    engine = make_engine(own_postgres.url)
    with engine.connect() as conn:
        run = conn.execute(select(CrawlRun)).one()
    assert (run.status, run.failed) == ("failed", lost + 1)

    done = subprocess.run(
        [sys.executable, "-m", "newscrawl.store", "reimport", "--database", own_postgres.url,
         str(path)],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert not path.exists()
    assert len(list(tmp_path.glob("deadletter.jsonl.imported-*"))) == 1
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Article)).scalar_one() == COUNT
        urls = conn.execute(select(func.count(func.distinct(ArticleUrl.url)))).scalar_one()
    assert urls == COUNT
    engine.dispose()
