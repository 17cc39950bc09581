"""The store's two writers (store/writer.py): a thread of the crawl process, the default,
and a process of its own. Real databases; the same answers from both."""

from __future__ import annotations

import logging
import multiprocessing
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from newscrawl.store import Store
from newscrawl.store.errors import StoreUnavailable
from newscrawl.store.models import Article
from newscrawl.store.writer import WriterProcess, WriterThread, make_writer
from tests.dbs import synthetic_items

# Nothing listens on port 9 of the loopback (discard): connecting fails at once.
UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:9/postgres"


@pytest.mark.parametrize("kind", ["thread", "process"])
def test_both_writers_store_a_batch_with_the_same_outcomes(
    kind: str, db_url: str, db_engine: Engine, tmp_path: Path
) -> None:
    store = Store(db_url, writer=kind, deadletter_path=str(tmp_path / "dead.jsonl"))
    items = synthetic_items(3)
    try:
        store.start_writer()
        first = store.write(items, [])
        again = store.write(items, [])
    finally:
        store.close()
    assert not isinstance(first, int) and not isinstance(again, int)
    assert [o.status for o in first.outcomes] == ["new", "new", "new"]
    assert [o.status for o in again.outcomes] == ["unchanged", "unchanged", "unchanged"]
    with db_engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Article)).scalar_one() == 3
    assert not (tmp_path / "dead.jsonl").exists()


def test_the_default_writer_is_a_thread_and_starts_no_process() -> None:
    before = multiprocessing.active_children()
    store = Store("sqlite://")
    store.start_writer()
    try:
        assert isinstance(store._writer, WriterThread)
        assert multiprocessing.active_children() == before
    finally:
        store.close()


@pytest.mark.parametrize("kind", ["thread", "process"])
def test_an_unreachable_database_is_unavailable_to_both_writers(kind: str) -> None:
    store = Store(UNREACHABLE, writer=kind)
    try:
        with pytest.raises(StoreUnavailable, match=r"127\.0\.0\.1"):
            store._writer.write(synthetic_items(1), [])
    finally:
        store.close()


def test_a_batch_the_database_never_takes_goes_to_the_dead_letter_file(tmp_path: Path) -> None:
    dead = tmp_path / "dead.jsonl"
    store = Store(UNREACHABLE, retries=1, backoff=0.01, deadletter_path=str(dead))
    try:
        assert store.write(synthetic_items(2), []) == 2
    finally:
        store.close()
    assert len(dead.read_text(encoding="utf-8").splitlines()) == 2


def test_make_writer_names_its_choices(db_engine: Engine) -> None:
    assert isinstance(make_writer("thread", db_engine, logging.INFO), WriterThread)
    assert isinstance(make_writer("process", db_engine, logging.INFO), WriterProcess)
    with pytest.raises(ValueError, match=r"^NEWSCRAWL_STORE_WRITER must be one of thread, pro"):
        make_writer("fork", db_engine, logging.INFO)
