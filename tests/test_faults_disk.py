"""A full disk: for the SQLite store (exit 3, nothing lost, the store still readable) and
for the store and the dead-letter file at once (a non-zero exit that says so, what was
lost counted). A small tmpfs mounted by the test (root only), filled once the crawl has
created its schema, so every write of the crawl meets a full disk."""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.crawling import REPO_ROOT, CrawlResult, stored_publications
from tests.faultkit import (
    PACED,
    dead_letters,
    row_count,
    run_opened,
    start,
    summary_value,
    wait_until,
)
from tests.mocknet import MockNetwork

QUICK_GIVE_UP = ("-s", "NEWSCRAWL_STORE_RETRIES=1", "-s", "NEWSCRAWL_STORE_BACKOFF=0.1")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs, unmounted after the test."""
    if os.geteuid() != 0 and os.environ.get("CI") != "true":
        pytest.skip("mounting a tmpfs needs root (CI runs this as root)")
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(directory: Path) -> None:
    """Write zeros into ``directory`` until its file system is full."""
    with contextlib.suppress(OSError), (directory / "filler").open("wb") as out:
        while True:
            out.write(b"\0" * 65536)
            out.flush()
    # Confirm it is full: not even one more byte.
    with pytest.raises(OSError) as full, (directory / "probe").open("wb") as probe:
        probe.write(b"\0" * 4096)
        probe.flush()
        os.fsync(probe.fileno())
    assert full.value.errno == errno.ENOSPC


def _stats(log: str) -> dict[str, int]:
    return {k: int(v) for k, v in CrawlResult(0, "", "", log).stats.items()}


def _run_on_full_disk(
    net: MockNetwork, disk: Path, workdir: Path, deadletter: Path
) -> tuple[int, str]:
    database = f"sqlite:///{disk / 'news.db'}"
    crawl = start(net, database, workdir, "full", *PACED, *QUICK_GIVE_UP,
                  "-s", f"NEWSCRAWL_DEADLETTER_PATH={deadletter}")  # fmt: skip
    wait_until(lambda: (disk / "news.db").exists() and run_opened(database), "the run opened")
    fill(disk)
    status = crawl.process.wait(timeout=240)
    assert "Traceback" not in crawl.text()
    return status, crawl.log.read_text(encoding="utf-8")


def test_sqlite_on_a_full_disk_exits_3_and_loses_nothing(
    mock_network_factory, small_disk: Path, tmp_path: Path
) -> None:
    net: MockNetwork = mock_network_factory(articles_per_portal=6, seed=31)
    deadletter = tmp_path / "deadletter.jsonl"
    status, log = _run_on_full_disk(net, small_disk, tmp_path, deadletter)
    stats = _stats(log)
    letters = dead_letters(deadletter)
    database = f"sqlite:///{small_disk / 'news.db'}"
    line = log.strip().splitlines()[-1]
    assert status == 3 and "exit=3 reason=deadletter" in line
    assert row_count(database) == 0  # still readable, and nothing half-written
    assert len(letters) == summary_value(line, "deadletter") == stats["item_scraped_count"] > 0
    assert "database or disk is full" in log
    check = sqlite3.connect(small_disk / "news.db")
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    check.close()

    (small_disk / "filler").unlink()
    done = subprocess.run(
        [sys.executable, "-m", "newscrawl.store", "reimport", "--database", database,
         str(deadletter)],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # Every dead letter is home: each URL a stored story's (a syndicated copy is a
    # publication of its story, not a row of its own).
    publications = stored_publications(database)
    assert {item["url"] for item in letters} <= set(publications)
    assert row_count(database) == len({publications[item["url"]] for item in letters})


def test_a_full_disk_for_the_store_and_the_dead_letters_says_so_and_counts_the_loss(
    mock_network_factory, small_disk: Path, tmp_path: Path
) -> None:
    """Was: exit 0, 0 stored, 0 dead letters, two tracebacks."""
    net: MockNetwork = mock_network_factory(articles_per_portal=6, seed=32)
    status, log = _run_on_full_disk(net, small_disk, tmp_path, small_disk / "deadletter.jsonl")
    stats = _stats(log)
    line = log.strip().splitlines()[-1]
    lost = summary_value(line, "lost")
    assert status == 1 and line.endswith("exit=1 reason=items_lost")
    assert lost == stats["newscrawl/store/lost"] == stats["item_scraped_count"] > 0
    assert summary_value(line, "deadletter") == 0
    assert log.count(f"{lost} items could be stored neither in") == 1
    assert row_count(f"sqlite:///{small_disk / 'news.db'}") == 0
