"""A fresh, empty database per measured crawl, and what the crawl stored in it.

SQLite: a new file in the benchmark's work folder. PostgreSQL: a new database on the
server (default ``postgresql+psycopg://postgres@127.0.0.1:5432``), dropped after the run,
so no run ever finds another's rows (an upsert into a filled table is not a backfill).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

DEFAULT_PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
KINDS = ("sqlite", "postgresql")


class BenchmarkError(RuntimeError):
    """A condition the benchmark cannot run under; the message is one line."""


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]


def server_version(kind: str, pg_server: str) -> str:
    """The database's version string; raises BenchmarkError if PostgreSQL is unreachable."""
    if kind == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    engine = create_engine(f"{pg_server}/postgres")
    try:
        with engine.connect() as conn:
            version = str(conn.execute(text("SHOW server_version")).scalar())
    except Exception as exc:  # any failure to reach the server means the same to the user
        raise BenchmarkError(f"PostgreSQL at {pg_server}: {_first_line(exc)}") from None
    finally:
        engine.dispose()
    return f"PostgreSQL {version}"


@contextmanager
def fresh_database(kind: str, workdir: Path, pg_server: str) -> Iterator[str]:
    """The URL of a new empty database of ``kind``, removed when the block ends."""
    name = f"newscrawl_bench_{uuid.uuid4().hex[:12]}"
    if kind == "sqlite":
        path = workdir / f"{name}.db"
        try:
            yield f"sqlite:///{path}"
        finally:
            for suffix in ("", "-wal", "-shm", "-journal", ".lock"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    admin = create_engine(f"{pg_server}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield f"{pg_server}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def stored_urls(url: str, table: str) -> list[str]:
    """Every ``url`` in ``table`` (duplicates kept: a naive crawler may store one twice)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [row[0] for row in conn.execute(text(f"SELECT url FROM {table}"))]
    except Exception as exc:  # no table: the crawl never got to create it
        raise BenchmarkError(f"cannot read {table}: {_first_line(exc)}") from None
    finally:
        engine.dispose()
