"""``write_batch``: store a batch of items in one transaction, one row per story.

Which story an item belongs to, which publication is the story's original and what the
row, its versions and its URLs hold is decided by ``newscrawl.store.plan`` (its
docstring states the rules; the tables are a function of the set of items stored,
whatever their order and batches). This module validates, runs a plan's rounds in a
transaction and reports per-item outcomes.

Reads happen once per batch (which URLs/ids/hashes exist), writes are bulk upserts.
Concurrent writers never duplicate a story: batches of several processes are serialized
(SQLite ``BEGIN IMMEDIATE``, a PostgreSQL advisory lock), so each sees the other's
stories before deciding; and as a second line, unique constraints on ``url`` and
``article_id`` with ``INSERT ... ON CONFLICT DO NOTHING``: an item that lost such a race
is resolved again against the winner's row.
"""

from __future__ import annotations

import gc
import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, ProgrammingError

from newscrawl.store import execute, lookup
from newscrawl.store import rejected as rejected_pages
from newscrawl.store.engine import write_transaction
from newscrawl.store.plan import NewStory, StoryUpdate, make_plan
from newscrawl.store.search import index_pending
from newscrawl.store.validate import ItemError, Prepared, prepare

logger = logging.getLogger(__name__)

STATUSES = ("new", "updated", "unchanged", "duplicate", "failed")
MAX_ROUNDS = 3
WRITE_LOCK = 0x6E657774
"""Key of the PostgreSQL advisory lock held by each write_batch transaction."""


@dataclass(frozen=True)
class ItemOutcome:
    """What happened to one item: ``status`` is one of ``STATUSES``."""

    index: int
    url: str | None
    status: str
    article: int | None = None
    """``articles.id`` of the story the item was stored as (None when failed)."""
    reason: str | None = None
    """Why it failed: the stats key suffix (``missing_url``, ``too_long``, ...)."""


@dataclass
class BatchResult:
    """Per-item outcomes of a batch, in item order, and their counts."""

    outcomes: list[ItemOutcome] = field(default_factory=list)
    rejected: int = 0
    """``rejected_pages`` rows written (one per URL)."""

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def new(self) -> int:
        return self.count("new")

    @property
    def updated(self) -> int:
        return self.count("updated")

    @property
    def unchanged(self) -> int:
        return self.count("unchanged")

    @property
    def duplicates(self) -> int:
        return self.count("duplicate")

    @property
    def failed(self) -> int:
        return self.count("failed")

    def count_reason(self, reason: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.reason == reason)

    def counts(self) -> dict[str, int]:
        """``{status: count}`` for every status, zeros included."""
        found = Counter(outcome.status for outcome in self.outcomes)
        return {status: found[status] for status in STATUSES}

    def failure_reasons(self) -> Counter[str]:
        return Counter(o.reason or "unknown" for o in self.outcomes if o.status == "failed")


def write_batch(
    engine: Engine,
    items: list[dict[str, Any]],
    rejected: Sequence[dict[str, Any]] = (),
    *,
    index_search: bool = True,
) -> BatchResult:
    """Store ``items`` (``ArticleItem`` dicts without ``html``) in one transaction.

    Items that break the schema are logged and counted as failed; the rest are stored.
    ``rejected``: pages dropped before the store (``rejected.page_from``), upserted into
    ``rejected_pages`` in the same transaction; any URL stored as an article leaves that
    table. An item's ``simhash`` (``dedup.fingerprint`` of its text, computed by the
    extraction worker) is used as given, else computed here.
    Database outages (``OperationalError``) propagate: the caller retries the batch.
    ``index_search``: also fill the PostgreSQL search vector of the batch's new and changed
    stories, after the commit (``search.index_pending``); the crawl passes False and
    indexes on a second connection. A failure there is logged, never raised: the batch
    is stored, and the stories stay pending for the next ``index_pending``.
    """
    outcomes: dict[int, ItemOutcome] = {}
    prepared: dict[int, Prepared] = {}
    for index, item in enumerate(items):
        try:
            prepared[index] = prepare(item)
        except ItemError as exc:
            url = item.get("url") if isinstance(item, dict) else None
            logger.warning("Rejected item %s: %s", url or f"#{index}", exc)
            outcomes[index] = ItemOutcome(index, url, "failed", reason=exc.reason)
    pages = rejected_pages.rows(rejected)
    if prepared or pages:
        with write_transaction(engine) as conn:
            if conn.dialect.name == "postgresql":
                # Unique constraints stop two writers from inserting one URL or id twice,
                # but not from inserting two near-duplicates of one story: batches are
                # serialized, as SQLite's BEGIN IMMEDIATE serializes them there.
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK})
            outcomes.update(_write_guarded(conn, prepared))
            rejected_pages.upsert(conn, pages)
            stored = {
                url
                for index, prep in prepared.items()
                if outcomes[index].status != "failed"
                for url in prep.url_sites()
            }
            rejected_pages.forget(conn, sorted(stored))
    result = BatchResult([outcomes[i] for i in range(len(items))], rejected=len(pages))
    if index_search and engine.dialect.name == "postgresql":
        _index(engine, result)
    return result


def _index(engine: Engine, result: BatchResult) -> None:
    changed = {o.article for o in result.outcomes if o.status in ("new", "updated")}
    try:
        index_pending(engine, sorted(a for a in changed if a is not None))
    except DBAPIError as exc:
        logger.warning(
            "Search index not updated (%s): %d stories stay pending until the next "
            "'python -m newscrawl.store index'", type(exc.orig).__name__, len(changed),
        )  # fmt: skip


def _write_guarded(conn: Connection, prepared: dict[int, Prepared]) -> dict[int, ItemOutcome]:
    # The bulk write runs in a SAVEPOINT: should the database reject a row the validation
    # did not foresee, only that savepoint is lost and the items are retried one by one,
    # each in its own savepoint, so one bad item cannot take its batch down.
    try:
        with conn.begin_nested():
            return _write_rounds(conn, prepared)
    except (IntegrityError, DataError, ProgrammingError) as exc:
        logger.warning("Batch rejected by the database, writing items one by one: %s", exc.orig)
    outcomes: dict[int, ItemOutcome] = {}
    for index, prep in prepared.items():
        try:
            with conn.begin_nested():
                outcomes.update(_write_rounds(conn, {index: prep}))
        except (IntegrityError, DataError, ProgrammingError) as exc:
            logger.warning("Rejected item %s: database error: %s", prep.url, exc.orig)
            outcomes[index] = ItemOutcome(index, prep.url, "failed", reason="db_error")
    return outcomes


def _write_rounds(conn: Connection, prepared: dict[int, Prepared]) -> dict[int, ItemOutcome]:
    outcomes: dict[int, ItemOutcome] = {}
    pending = prepared
    for _ in range(MAX_ROUNDS):
        done, lost = _write_round(conn, pending)
        outcomes.update(done)
        if not lost:
            return outcomes
        # Another process stored one of our new stories first: resolve those items again.
        pending = {index: prepared[index] for index in lost}
    raise IntegrityError("write_batch", None, Exception("story insert kept losing races"))


def _write_round(
    conn: Connection, prepared: dict[int, Prepared]
) -> tuple[dict[int, ItemOutcome], set[int]]:
    with _no_gc():
        known = lookup.load(conn, list(prepared.values()))
        plan = make_plan(prepared, known)
    lost = execute.insert_stories(conn, plan.new)
    execute.carry_out(conn, plan, lost)
    outcomes = {
        index: ItemOutcome(index, prepared[index].url, status, _story_id(plan.story_of[index]))
        for index, status in plan.statuses.items()
        if index not in lost
    }
    return outcomes, lost


@contextmanager
def _no_gc() -> Iterator[None]:
    """The cyclic garbage collector paused while a batch is looked up and planned.

    Both allocate a few small objects per item (and per near-duplicate band match: ~30
    an item in a store of a million) and create no cycles; each collection they
    triggered walked the writer's whole heap (SQLAlchemy, the batch's texts), measured
    at a tenth of the CPU of storing a new story.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _story_id(story: NewStory | StoryUpdate | int) -> int | None:
    return story if isinstance(story, int) else story.id
