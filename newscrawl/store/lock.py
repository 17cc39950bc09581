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
import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import URL, Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from newscrawl.store import runs
from newscrawl.store.engine import database_url as normalized_url
from newscrawl.store.engine import make_engine
from newscrawl.store.errors import store_errors
from newscrawl.store.runs import mark_interrupted

logger = logging.getLogger(__name__)

# How often the PostgreSQL lock's session is checked (and the lock taken again after a
# database restart, _LockKeeper).
LOCK_CHECK_SECONDS = 1.0


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
        connection = engine.connect()
        try:
            if not _try_advisory_lock(connection, key):
                raise LockHeld("another crawl is running on this database")
        except BaseException:
            connection.close()
            raise
        keeper = _LockKeeper(engine, connection, key)
        keeper.start()
        try:
            yield
        finally:
            keeper.stop()
    finally:
        engine.dispose()


def _try_advisory_lock(connection: Connection, key: int, shared: bool = False) -> bool:
    function = "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
    got = bool(connection.execute(text(f"SELECT {function}(:key)"), {"key": key}).scalar())
    connection.commit()  # the lock belongs to the session: no transaction left open
    return got


class _LockKeeper(threading.Thread):
    """Holds the advisory lock's session, and takes the lock again when it was lost.

    A session-level advisory lock dies with its session, and a database restart ends
    every session: a second crawl started after a restart used to run beside the first.
    Every ``LOCK_CHECK_SECONDS`` this thread pings the session; once the server answers
    again on a new one, it takes the lock again. What remains is the gap between the
    server coming back and the next check (at most ``LOCK_CHECK_SECONDS``, measured in
    ``tests/test_faults_locks.py``): a crawl started in it wins, and this one then says
    so in one error line. A lock row with a heartbeat in a table would close the gap at
    the price of a schema change and a wait of its time-to-live after every kill -9.

    The same for the exclusive lock of a standalone crawl and a cluster worker's shared
    one (``shared``). Whoever else uses the session (``session()``) holds ``guard``: a
    connection is not to be used by two threads at once.
    """

    def __init__(
        self, engine: Engine, connection: Connection, key: int, shared: bool = False
    ) -> None:
        super().__init__(name="newscrawl-crawl-lock", daemon=True)
        self.engine, self.connection, self.key, self.shared = engine, connection, key, shared
        self.guard = threading.Lock()
        self._stopping = threading.Event()

    @contextlib.contextmanager
    def session(self) -> Iterator[Connection]:
        """The lock's connection (the current one: a restart replaces it), for a query."""
        with self.guard:
            yield self.connection

    def run(self) -> None:
        while not self._stopping.wait(LOCK_CHECK_SECONDS):
            with self.guard:
                try:
                    self.connection.execute(text("SELECT 1"))
                    self.connection.commit()
                except SQLAlchemyError:
                    self._retake()

    def _retake(self) -> None:
        with contextlib.suppress(SQLAlchemyError):
            self.connection.invalidate()
            self.connection.close()
        try:
            self.connection = self.engine.connect()
            got = _try_advisory_lock(self.connection, self.key, self.shared)
        except SQLAlchemyError:  # still down: the next check tries again
            return
        if got:
            logger.warning("The database connection was lost and is back: crawl lock taken again")
        else:
            logger.error(
                "Lost the crawl lock while the database was away: another crawl now runs "
                "on this database beside this one"
            )
            self._stopping.set()

    def stop(self) -> None:
        self._stopping.set()
        self.join()
        unlock = "pg_advisory_unlock_shared" if self.shared else "pg_advisory_unlock"
        # A lost connection has released the lock already.
        with contextlib.suppress(Exception):
            self.connection.execute(text(f"SELECT {unlock}(:key)"), {"key": self.key})
        with contextlib.suppress(Exception):
            self.connection.close()


@contextlib.contextmanager
def shared_crawl_lock(database_url: str, spider: str = "ippen") -> Iterator[Callable[[], bool]]:
    """A cluster worker's share of the PostgreSQL crawl lock (``LockHeld`` while a crawl
    outside the cluster holds it exclusively), kept across a database restart as the
    standalone lock is (``_LockKeeper``); yields ``backfilled()`` (whether a backfill of
    ``spider`` ever finished, ``runs.backfill_finished``) asked on the lock's own
    connection, without a transaction left open all crawl long."""
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    key = advisory_key()
    try:
        with store_errors():
            connection = engine.connect()
            try:
                if not _try_advisory_lock(connection, key, shared=True):
                    raise LockHeld("a crawl outside the cluster is running on this database")
            except BaseException:
                connection.close()
                raise
            keeper = _LockKeeper(engine, connection, key, shared=True)

            def backfilled() -> bool:
                with keeper.session() as session:
                    try:
                        return runs.backfill_finished(session, spider)
                    except SQLAlchemyError:  # no schema yet (a first run), or the server is away
                        return False
                    finally:
                        with contextlib.suppress(SQLAlchemyError):
                            session.rollback()

            keeper.start()
            try:
                yield backfilled
            finally:
                keeper.stop()
    finally:
        engine.dispose()
