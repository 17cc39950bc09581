"""Runs tell the truth: dead crawls' runs are closed as interrupted, failed runs say why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from newscrawl.commands.crawl import EXIT_DEADLETTER, EXIT_FAILED, EXIT_OK, exit_reason, summary
from newscrawl.store.lock import crawl_lock
from newscrawl.store.models import CrawlRun
from newscrawl.store.runs import backfill_finished, finish_run, start_run


def _runs(engine: Engine) -> list[tuple[int, str, datetime | None]]:
    with engine.connect() as conn:
        rows = conn.execute(select(CrawlRun.id, CrawlRun.status, CrawlRun.finished_at))
        return sorted(tuple(row) for row in rows)


def test_taking_the_lock_marks_dead_runs_interrupted(db_url: str, db_engine: Engine) -> None:
    dead = start_run(db_engine, "ippen", {}, ["fr.de"])
    done = start_run(db_engine, "ippen", {}, ["fr.de"])
    finish_run(db_engine, done, "finished", {"new": 3})
    (_, _, finished_before), _ = _runs(db_engine)
    assert finished_before is None
    before = datetime.now(UTC) - timedelta(seconds=1)
    with crawl_lock(db_url):
        runs = _runs(db_engine)
    assert [(run_id, status) for run_id, status, _ in runs] == [
        (dead, "interrupted"), (done, "finished"),
    ]  # fmt: skip
    assert runs[0][2] is not None and runs[0][2] >= before


@pytest.mark.parametrize(
    ("runs", "backfilled"),
    [
        ([], False),
        ([("ippen", {"since": "2024-04-26T00:00:00+00:00"}, "finished")], False),
        ([("ippen", {}, "interrupted"), ("ippen", {}, "running")], False),
        ([("other", {}, "finished")], False),  # another spider's backfill
        ([("ippen", {"since": "6h"}, "finished"), ("ippen", {}, "finished")], True),
        ([("ippen", {"sites": "fr.de"}, "finished")], True),
        ([("ippen", {"since": ""}, "finished")], True),
        ([("ippen", {"since": None}, "finished")], True),
    ],
)  # fmt: skip
def test_a_backfill_is_a_finished_run_without_since(
    db_engine: Engine, runs: list[tuple[str, dict, str]], backfilled: bool
) -> None:
    for spider, arguments, status in runs:
        run = start_run(db_engine, spider, arguments, ["fr.de"])
        if status != "running":
            finish_run(db_engine, run, status, {})
    with db_engine.connect() as connection:
        assert backfill_finished(connection, "ippen") is backfilled


def test_a_first_crawl_without_tables_takes_the_lock(tmp_path) -> None:
    with crawl_lock(f"sqlite:///{tmp_path}/new.db"):
        pass


@pytest.mark.parametrize(
    ("stats", "status", "reason"),
    [
        ({"finish_reason": "finished", "newscrawl/source/feed": 2}, EXIT_OK, None),
        ({"finish_reason": "finished", "newscrawl/store/deadletter": 4}, EXIT_DEADLETTER,
         "deadletter"),
        ({"finish_reason": "finished", "newscrawl/store/unreachable": 1,
          "newscrawl/store/deadletter": 0}, EXIT_FAILED, "database_unreachable"),
        ({"finish_reason": "shutdown"}, EXIT_FAILED, "interrupted"),
        ({}, EXIT_FAILED, "interrupted"),  # Ctrl-C while the engine was opening
        ({"finish_reason": "closespider_errorcount"}, EXIT_FAILED, "closespider_errorcount"),
        ({"finish_reason": "finished", "newscrawl/source/failed": 5}, EXIT_FAILED,
         "no_source_answered"),
        # A cluster worker handed only the broken source, while others read the rest.
        ({"finish_reason": "finished", "newscrawl/source/failed": 1,
          "newscrawl/cluster/sources_answered": 9}, EXIT_OK, None),
        ({"finish_reason": "finished", "newscrawl/source/failed": 1,
          "newscrawl/cluster/sources_answered": 0}, EXIT_FAILED, "no_source_answered"),
    ],
)  # fmt: skip
def test_exit_status_and_its_reason(stats: dict, status: int, reason: str | None) -> None:
    assert exit_reason(stats) == (status, reason)
    line = summary(stats, status, reason)
    assert line.endswith(f"exit={status}" + (f" reason={reason}" if reason else ""))


def test_the_summary_names_flagged_portals_before_the_finish() -> None:
    stats = {"finish_reason": "finished", "newscrawl/store/new": 3}
    line = summary(stats, EXIT_OK, None, ["fr.de", "hna.de"])
    assert line == (
        "newscrawl summary: new=3 updated=0 unchanged=0 duplicates=0 failed=0 deadletter=0 "
        "duration=0.0s flagged=fr.de,hna.de finish_reason=finished exit=0"
    )
