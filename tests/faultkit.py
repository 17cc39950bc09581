"""Shared by the fault tests (``tests/test_faults_*.py``): a crawl started in the
background, waited for by condition, and what it left in the store and the dead-letter
file. Named so that pytest does not collect it."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from newscrawl.store import deadletter, make_engine
from newscrawl.store.models import Article, CrawlRun
from newscrawl.urls import article_id
from tests.crawling import REPO_ROOT, crawl_command
from tests.mocknet import MockNetwork

# Slow enough that a signal finds the crawl mid-run, fast enough for a test.
PACED = ("-s", "DOWNLOAD_DELAY=0.2", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
         "-s", "RANDOMIZE_DOWNLOAD_DELAY=False")  # fmt: skip
# Nothing is written before the stop: the whole of what was extracted sits in the buffer.
HOLD_WRITES = ("-s", "NEWSCRAWL_STORE_FLUSH_SECONDS=600", "-s", "NEWSCRAWL_STORE_BATCH_SIZE=5000")


@dataclass
class Background:
    """A ``scrapy crawl ippen`` in a session of its own; output in files of ``workdir``."""

    process: subprocess.Popen[bytes]
    log: Path
    stderr: Path

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8") + self.stderr.read_text(encoding="utf-8")

    def last_line(self) -> str:
        return self.log.read_text(encoding="utf-8").strip().splitlines()[-1]


def start(net: MockNetwork, database: str, workdir: Path, name: str, *args: str) -> Background:
    log, stderr = workdir / f"{name}.log", workdir / f"{name}.stderr"
    command = crawl_command(net.registry_path, database, workdir, log, *args)
    with stderr.open("wb") as err:
        process = subprocess.Popen(command, cwd=REPO_ROOT, start_new_session=True,
                                   stdout=subprocess.DEVNULL, stderr=err)  # fmt: skip
    return Background(process, log, stderr)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.05)


def article_requests(net: MockNetwork) -> int:
    return sum(1 for r in net.requests() if article_id(r.url))


def log_has(crawl: Background, text: str) -> Callable[[], bool]:
    return lambda: crawl.log.exists() and text in crawl.log.read_text(encoding="utf-8")


def stored_urls(database: str) -> list[str]:
    """Every stored story's URL (a list: a duplicate row would show twice)."""
    engine = make_engine(database)
    try:
        with engine.connect() as connection:
            return list(connection.execute(select(Article.url)).scalars())
    finally:
        engine.dispose()


def run_statuses(database: str) -> list[str]:
    engine = make_engine(database)
    try:
        with engine.connect() as connection:
            return list(connection.execute(select(CrawlRun.status).order_by(CrawlRun.id)).scalars())
    finally:
        engine.dispose()


def run_opened(database: str) -> bool:
    """Whether the crawl has recorded its run (False before the schema exists)."""
    try:
        return run_statuses(database) == ["running"]
    except SQLAlchemyError:  # no schema yet, or no server
        return False


def row_count(database: str) -> int:
    engine = make_engine(database)
    try:
        with engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(Article)).scalar_one()
    finally:
        engine.dispose()


def dead_letters(path: Path) -> list[dict[str, object]]:
    return [item for _, item in deadletter.read(path)] if path.exists() else []


def summary_value(line: str, key: str) -> int:
    """``key=<int>`` of the summary line."""
    return int(line.split(f" {key}=", 1)[1].split()[0])
