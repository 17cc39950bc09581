"""One crawl per database at a time, with a lock that dies with its holder.

Cron starts a crawl every few minutes; a slow run must not be joined by the
next. The lock is one the operating system or the database releases by
itself when its holder dies (``flock`` on a file beside a SQLite database, a
session-level advisory lock on PostgreSQL), so a crashed run never leaves a
stale lock that would have to be obeyed forever or guessed about by PID.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import URL, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from newscrawl.store import runs
from newscrawl.store.engine import database_url as normalized_url
from newscrawl.store.engine import make_engine
from newscrawl.store.errors import store_errors
from newscrawl.store.runs import mark_interrupted


class LockHeld(RuntimeError):
    """Another crawl holds the lock of this database; the message is one line."""


@contextlib.contextmanager
def crawl_lock(database_url: str, name: str = "newscrawl") -> Iterator[None]:
    """Hold the crawl lock of ``database_url`` for the ``with`` block, or raise LockHeld.

    Whoever holds it is the only crawl: runs left ``running`` belong to dead crawls and
    are marked ``interrupted`` as soon as it is taken.
    """
    url = normalized_url(database_url)
    held = (
        _file_lock(_sqlite_lock_path(url.database))
        if url.get_backend_name() == "sqlite"
        else _advisory_lock(url, name)
    )
    with store_errors(), held:
        _mark_dead_runs(url)
        yield


def _mark_dead_runs(url: URL) -> None:
    engine = make_engine(url, poolclass=NullPool)
    try:
        mark_interrupted(engine)
    finally:
        engine.dispose()


def _sqlite_lock_path(database: str | None) -> Path:
    if not database or database == ":memory:":
        raise LockHeld("an in-memory SQLite database cannot be shared, so it needs no lock")
    return Path(database + ".lock")


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
            raise LockHeld(f"another crawl (pid {holder}) is running on this database") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the flock


def advisory_key(name: str = "newscrawl") -> int:
    """The PostgreSQL advisory lock key of the crawl lock (the cluster shares it)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextlib.contextmanager
def _advisory_lock(url: URL, name: str) -> Iterator[None]:
    key = advisory_key(name)
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as connection:
            got = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key})
            if not got.scalar():
                raise LockHeld("another crawl is running on this database")
            try:
                yield
            finally:
                # A lost connection has released the lock already.
                with contextlib.suppress(Exception):
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
    finally:
        engine.dispose()


@contextlib.contextmanager
def shared_crawl_lock(database_url: str, spider: str = "ippen") -> Iterator[Callable[[], bool]]:
    """A cluster worker's share of the PostgreSQL crawl lock (``LockHeld`` while a crawl
    outside the cluster holds it exclusively); yields ``backfilled()`` (whether a backfill
    of ``spider`` ever finished, ``runs.backfill_finished``) asked on the lock's own
    connection, without a transaction left open all crawl long."""
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    key = advisory_key()
    try:
        with store_errors(), engine.connect() as connection:
            got = connection.execute(text("SELECT pg_try_advisory_lock_shared(:k)"), {"k": key})
            if not got.scalar():
                raise LockHeld("a crawl outside the cluster is running on this database")
            connection.commit()

            def backfilled() -> bool:
                try:
                    return runs.backfill_finished(connection, spider)
                except SQLAlchemyError:  # no schema yet: a first run
                    return False
                finally:
                    connection.rollback()

            try:
                yield backfilled
            finally:
                with contextlib.suppress(Exception):
                    connection.execute(text("SELECT pg_advisory_unlock_shared(:k)"), {"k": key})
    finally:
        engine.dispose()
