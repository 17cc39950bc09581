"""A year of cron runs in ``crawl_runs``, for the store of a year (``_bulk_store.build``).

A crawl reads ``crawl_runs`` at every start (runs left running, has a backfill
finished) and ``stats`` lists the newest; a cron run every 15 minutes leaves 35,040
rows a year, which a store built of stories alone would not have.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert

from newscrawl.store import make_engine
from newscrawl.store.models import CrawlRun

RUNS_A_YEAR = 365 * 24 * 4
"""One cron run every 15 minutes."""


def load_runs(url: str, now: datetime, count: int = RUNS_A_YEAR) -> None:
    """``count`` finished runs of ``ippen``, 15 minutes apart up to ``now``, recorded as a
    cron job's ``scrapy crawl ippen`` records them (no arguments)."""
    first = now - timedelta(minutes=15 * count)
    cron = {"spider": "ippen", "arguments": {}, "sites": [], "status": "finished", "new": 6,
            "updated": 1, "unchanged": 0, "duplicates": 1, "failed": 0}  # fmt: skip
    rows = [
        {
            **cron,
            "started_at": first + timedelta(minutes=15 * n),
            "finished_at": first + timedelta(minutes=15 * n + 2),
        }
        for n in range(count)
    ]
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(insert(CrawlRun), rows)
    finally:
        engine.dispose()
