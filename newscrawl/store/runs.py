"""``crawl_runs`` rows: one per crawl, opened running and closed with its outcome."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, exists, insert, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from newscrawl.store.engine import write_transaction
from newscrawl.store.models import CrawlRun

logger = logging.getLogger(__name__)
RUN_STATUSES = ("running", "finished", "failed", "interrupted")
COUNT_COLUMNS = ("new", "updated", "unchanged", "duplicates", "failed")


def run_status(reason: str, *, failed: bool = False) -> str:
    """A Scrapy close reason → run status.

    ``finished`` and the ``closespider_*`` limits (the crawl stopped where it was told to)
    are a finished run; ``shutdown`` (Ctrl-C, SIGTERM) an interrupted one; any other
    reason, or items lost to the dead-letter file (``failed``), a failed one.
    """
    if failed:
        return "failed"
    if reason == "finished" or reason.startswith("closespider_"):
        return "finished"
    return "interrupted" if reason == "shutdown" else "failed"


def start_run(
    engine: Engine, spider: str, arguments: dict[str, Any], sites: list[str] | None = None
) -> int:
    """Insert a running ``crawl_runs`` row; returns its id."""
    values = {
        "started_at": datetime.now(UTC), "spider": spider, "arguments": arguments,
        "sites": sites or [], "status": "running", **dict.fromkeys(COUNT_COLUMNS, 0),
    }  # fmt: skip
    with write_transaction(engine) as conn:
        return conn.execute(insert(CrawlRun).values(values).returning(CrawlRun.id)).scalar_one()


def finish_run(engine: Engine, run_id: int, status: str, counts: dict[str, int]) -> None:
    """Close a run with its status and final counts (keys of ``COUNT_COLUMNS``)."""
    if status not in RUN_STATUSES:
        raise ValueError(f"unknown run status {status!r}")
    values = {name: counts.get(name, 0) for name in COUNT_COLUMNS}
    with write_transaction(engine) as conn:
        conn.execute(
            update(CrawlRun)
            .where(CrawlRun.id == run_id)
            .values(status=status, finished_at=datetime.now(UTC), **values)
        )


def mark_interrupted(engine: Engine) -> int:
    """Close every run still ``running`` as ``interrupted``, finished when found.

    Called by a crawl that has just taken the database's crawl lock: no other crawl can
    be running, so such a row belongs to one that died (killed, lost its database)
    before it could close it. Returns how many; a database without the table (a first
    crawl) or out of reach has none to mark (the crawl finds out soon enough).
    """
    try:
        with write_transaction(engine) as conn:
            marked = conn.execute(
                update(CrawlRun)
                .where(CrawlRun.status == "running")
                .values(status="interrupted", finished_at=datetime.now(UTC))
            ).rowcount
    except SQLAlchemyError as exc:
        logger.debug("No runs marked interrupted: %s", exc)
        return 0
    if marked:
        logger.warning("Marked %d crawl runs left running by dead crawls as interrupted", marked)
    return marked


def backfill_finished(connection: Connection, spider: str) -> bool:
    """Whether a run of ``spider`` that was not limited by ``since`` ever finished.

    Such a run followed every source entry to its end: from then on the window of an
    incremental run is enough. A killed or interrupted first run is not one, so the next
    run backfills again (the store skips what the first one kept). One ``EXISTS`` in the
    database: a year of cron runs is ~35,000 rows, and reading them through a server-side
    cursor (as this did) also logged a traceback when PostgreSQL restarted under it.
    """
    since = CrawlRun.arguments["since"].as_string()
    unlimited = exists().where(
        CrawlRun.spider == spider,
        CrawlRun.status == "finished",
        or_(since.is_(None), since == ""),
    )
    return bool(connection.execute(select(unlimited)).scalar())
