"""No query of ``stats``, ``search`` or ``show``, and none of a crawl's start-up, reads
every story or every run (issue 14: "a query plan that scans ``articles`` is a defect";
a year of cron runs is ~35,000 ``crawl_runs``): each statement they send is EXPLAINed on
a small store of both databases, and a plan that reads every row of a big table fails.

SQLite plans the same with ten rows as with a million (no statistics are kept); on
PostgreSQL ``enable_seqscan = off`` shows the plan a big store gets. A scan of a covering
index (narrow entries, no row read) passes: counting every story's section is such a
scan. ``benchmarks/_plans.py`` is the rule; the benchmark prints the same plans on the
store of a year.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, text

from benchmarks import _plans
from newscrawl.store import index_pending
from newscrawl.store.query import Filters, find_articles, find_story, latest_articles
from newscrawl.store.runs import backfill_finished, mark_interrupted
from newscrawl.store.stats import stats
from tests.test_stats_scale import fill

SINCE = datetime(2026, 1, 5, tzinfo=UTC)
READS: dict[str, Callable[[Engine], Any]] = {
    "stats": lambda e: stats(e, Filters(), 10),
    "stats --site": lambda e: stats(e, Filters(site="fr.de"), 10),
    "stats --since": lambda e: stats(e, Filters(since=SINCE), 10),
    "search": lambda e: find_articles(e, ["Meldung"], Filters(), 50),
    "search --site": lambda e: find_articles(e, ["Meldung"], Filters(site="fr.de"), 50),
    "search --since": lambda e: find_articles(e, ["Meldung"], Filters(since=SINCE), 50),
    "search, no words": lambda e: latest_articles(e, Filters(), 50),
    "show online id": lambda e: find_story(e, "93000002"),
    "show URL": lambda e: find_story(e, "https://www.merkur.de/s-2-1.html"),
    "show row id": lambda e: find_story(e, "4"),
    "start-up: runs left running": mark_interrupted,
    "start-up: has a backfill finished": lambda e: _backfill_finished(e),
}


def _backfill_finished(engine: Engine) -> bool:
    with engine.connect() as conn:
        return backfill_finished(conn, "ippen")


SETTINGS = {"sqlite": (), "postgresql": ("SET enable_seqscan = off",)}


@pytest.fixture
def store(db_engine: Engine) -> Engine:
    fill(db_engine)
    index_pending(db_engine)
    return db_engine


def scanning(engine: Engine, read: Callable[[Engine], Any]) -> list[str]:
    """The statements of ``read`` whose plans read every row of a big table, with them."""
    with _plans.capture() as statements:
        read(engine)
    assert statements, "nothing was captured"
    plans = _plans.explain(engine, statements, SETTINGS[engine.dialect.name])
    return [_plans.report("", [plan]) for plan in plans if plan[2]]


@pytest.mark.parametrize("read", READS, ids=list(READS))
def test_no_read_scans_the_stories(store: Engine, read: str) -> None:
    assert scanning(store, READS[read]) == []


def test_the_check_sees_a_scan(store: Engine) -> None:
    # Grouping by a column no index holds reads every story: the rule must say so.
    def by_title(engine: Engine) -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT title, count(*) FROM articles GROUP BY title")).all()

    found = scanning(store, by_title)
    assert len(found) == 1 and "GROUP BY title" in found[0]
