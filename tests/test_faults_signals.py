"""Signals mid-crawl lose nothing: SIGINT/SIGTERM once and twice, kill -9, with and
without JOBDIR; the next run, resumed or plain, completes the interrupted backfill.

Real ``scrapy crawl`` processes on the mock network, SQLite stores. Each case asserts
the exit status the README gives, no traceback, the run row closed, every item the
store was given stored or in the dead-letter file, and after the next run every story
stored exactly once.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.crawling import REPO_ROOT, crawl
from tests.faultkit import (
    HOLD_WRITES,
    PACED,
    article_requests,
    dead_letters,
    log_has,
    row_count,
    run_opened,
    run_statuses,
    start,
    stored_urls,
    summary_value,
    wait_until,
)
from tests.mocknet import MockNetwork

ARTICLES_PER_PORTAL = 10
MID_RUN = 15  # article pages served before the signal


def _received(log: str) -> int:
    """What the store pipeline was given: the count of its 'Stopping at once' line, and
    each item that came out of extraction after it (dead-lettered one by one)."""
    at_stop = int(log.split("Stopping at once: of ", 1)[1].split()[0])
    return at_stop + log.count("Stopped before 1 item was stored")


def _reimport(database: str, path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "newscrawl.store", "reimport", "--database", database, str(path)],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def _assert_complete(net: MockNetwork, database: str) -> None:
    urls = stored_urls(database)
    assert sorted(urls) == sorted(net.expected_urls)  # every story, each once


@pytest.mark.parametrize(
    ("signum", "jobdir"),
    [(signal.SIGINT, False), (signal.SIGTERM, True)],
    ids=["ctrl-c-twice", "sigterm-twice-jobdir"],
)
def test_a_second_signal_hurries_the_stop_and_drops_nothing(
    mock_network_factory, tmp_path: Path, signum: int, jobdir: bool
) -> None:
    """The store is held locked by the test while the signals arrive, so the crawl's
    graceful stop cannot finish before the second one: ``_forced_stop`` always runs."""
    net: MockNetwork = mock_network_factory(articles_per_portal=ARTICLES_PER_PORTAL, seed=21)
    path = tmp_path / "news.db"
    database = f"sqlite:///{path}"
    job = ("-s", f"JOBDIR={tmp_path / 'job'}") if jobdir else ()
    first = start(net, database, tmp_path, "first", *PACED, *HOLD_WRITES, *job)
    wait_until(lambda: path.exists() and run_opened(database), "the run opened")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # the crawl's writes wait (busy_timeout)
    try:
        wait_until(lambda: article_requests(net) >= MID_RUN, f"{MID_RUN} articles were served")
        first.process.send_signal(signum)
        wait_until(log_has(first, "shutting down gracefully"), "the first signal was taken")
        first.process.send_signal(signum)
        wait_until(log_has(first, "Stopping at once"), "the second signal was taken")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    status = first.process.wait(timeout=120)
    assert "Traceback" not in first.text()
    log = first.log.read_text(encoding="utf-8")
    letters = dead_letters(tmp_path / "deadletter.jsonl")
    # Nothing the store was given is lost: stored (the batch under way) or dead-lettered.
    assert row_count(database) + len(letters) == _received(log) > 0
    line = first.last_line()
    assert summary_value(line, "deadletter") == len(letters)
    assert summary_value(line, "new") == row_count(database)
    assert status == (3 if letters else 1) and f"exit={status}" in line
    assert run_statuses(database) == ["failed" if letters else "interrupted"]

    # The same command again: a resumed job, or a plain run that is still a backfill.
    again = crawl(net.registry_path, database, tmp_path, *job)
    assert again.returncode == 0, again.log[-3000:]
    assert "Traceback" not in again.log + again.stderr
    assert "No backfill has finished yet" in again.log
    _assert_complete(net, database)
    if letters:
        _reimport(database, tmp_path / "deadletter.jsonl")
        _assert_complete(net, database)


@pytest.mark.parametrize(
    ("signum", "jobdir"),
    [(signal.SIGINT, True), (signal.SIGTERM, False)],
    ids=["ctrl-c-once-jobdir", "sigterm-once"],
)
def test_one_signal_stores_the_batch_and_the_next_run_completes_the_backfill(
    mock_network_factory, tmp_path: Path, signum: int, jobdir: bool
) -> None:
    net: MockNetwork = mock_network_factory(articles_per_portal=ARTICLES_PER_PORTAL, seed=22)
    database = f"sqlite:///{tmp_path / 'news.db'}"
    job = ("-s", f"JOBDIR={tmp_path / 'job'}") if jobdir else ()
    first = start(net, database, tmp_path, "first", *PACED, *HOLD_WRITES, *job)
    wait_until(lambda: article_requests(net) >= MID_RUN, f"{MID_RUN} articles were served")
    first.process.send_signal(signum)
    assert first.process.wait(timeout=120) == 1
    assert "Traceback" not in first.text()
    line = first.last_line()
    assert "finish_reason=shutdown exit=1 reason=interrupted" in line
    stored = row_count(database)
    assert 0 < stored < len(net.expected_urls)  # the buffer was written on the way out
    assert summary_value(line, "new") == stored and summary_value(line, "deadletter") == 0
    assert run_statuses(database) == ["interrupted"]

    again = crawl(net.registry_path, database, tmp_path, *job)
    assert again.returncode == 0, again.log[-3000:]
    assert "Traceback" not in again.log + again.stderr
    assert again.log.count("No backfill has finished yet") == 1  # said once, not per middleware
    _assert_complete(net, database)
    assert run_statuses(database) == ["interrupted", "finished"]
    # Once a backfill has finished, a plain run is an incremental one.
    third = crawl(net.registry_path, database, tmp_path)
    assert third.returncode == 0 and third.log.count("Incremental run") == 1
    _assert_complete(net, database)


@pytest.mark.parametrize("jobdir", [True, False], ids=["jobdir", "plain"])
def test_kill_9_then_the_same_command_stores_every_story_once(
    mock_network_factory, tmp_path: Path, jobdir: bool
) -> None:
    """Nothing is written before the kill (writes held back): every fetched article dies
    with the crawl, and with JOBDIR its request was marked done. The re-run must fetch
    them again: the job's fingerprints are forgotten, and it is still a backfill."""
    net: MockNetwork = mock_network_factory(articles_per_portal=ARTICLES_PER_PORTAL, seed=23)
    database = f"sqlite:///{tmp_path / 'news.db'}"
    job = ("-s", f"JOBDIR={tmp_path / 'job'}") if jobdir else ()
    first = start(net, database, tmp_path, "first", *PACED, *HOLD_WRITES, *job)
    wait_until(lambda: article_requests(net) >= MID_RUN, f"{MID_RUN} articles were served")
    first.process.kill()
    assert first.process.wait(timeout=30) == -signal.SIGKILL
    assert row_count(database) == 0
    fetched_before = article_requests(net)

    net.reset_requests()
    again = crawl(net.registry_path, database, tmp_path, *PACED, *job)
    assert again.returncode == 0, again.log[-3000:]
    assert "Traceback" not in again.log + again.stderr
    _assert_complete(net, database)
    assert run_statuses(database) == ["interrupted", "finished"]
    assert ("did not stop cleanly" in again.log) is jobdir
    assert article_requests(net) >= fetched_before  # what was fetched, fetched again
