"""Database URLs and engines: one place that knows SQLite from PostgreSQL.

``NEWSCRAWL_DATABASE_URL`` (environment) overrides the default ``sqlite:///data/news.db``
(relative to the current directory). ``postgresql://`` URLs are driven by psycopg 3.
Only ``display_url`` may ever reach a log line: it hides the password.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

DEFAULT_DATABASE_URL = "sqlite:///data/news.db"
DATABASE_URL_ENV = "NEWSCRAWL_DATABASE_URL"
SQLITE_BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite writer waits for another process's write lock before failing."""


# A URL's credentials, found without parsing it (it may be malformed): everything between
# the scheme (with or without its ':' and slashes) and the *last* '@' is user and password.
# The user name ends at the first ':' or '@'; the rest is taken for the password.
_CREDENTIALS = re.compile(
    # Possessive (*+): the scheme, its ':' and slashes, the user are never given back to let
    # a URL without a password match some other way.
    r"^(?P<head>[A-Za-z][A-Za-z0-9+.\-]*+:?+/*+[^:@/]*+[:@])(?P<secret>.*)(?P<tail>@[^@]*)$",
    re.S,
)


def mask_url(raw: str) -> str:
    """``raw`` with whatever may be its password replaced by ``***``, even when it is no
    valid URL: ``postgresql+psycopg//user:secret@host/db`` → ``...//user:***@host/db``,
    ``postgresql://user@secret@host/db`` → ``postgresql://user@***@host/db``.

    SQLAlchemy's own masking (``display_url``) needs a URL it can parse, and a malformed
    one is exactly what an error message has to show.
    """
    return _CREDENTIALS.sub(r"\g<head>***\g<tail>", raw)


_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^:/@\s'\"]*:)[^@/\s'\"]+(?=@)", re.I)


def redact(text: str) -> str:
    """Every ``postgresql://user:secret@host/db`` in free text → ``...user:***@host/db``."""
    return _URL_PASSWORD.sub(r"\g<head>***", text)


def database_url(url: str | URL | None = None) -> URL:
    """The URL to use: ``url`` if given, else the environment variable, else the default.

    ``postgres://``/``postgresql://`` get the psycopg 3 driver (SQLAlchemy would pick
    psycopg2, which is not installed). A malformed URL is a ``ValueError`` whose one-line
    message shows it masked (``mask_url``).
    """
    raw = url if url is not None else os.environ.get(DATABASE_URL_ENV) or DEFAULT_DATABASE_URL
    try:
        parsed = make_url(raw)
    except Exception:
        raise ValueError(f"not a database URL: {mask_url(str(raw))}") from None
    if parsed.username and "@" in parsed.username and f"{parsed.username}@" in str(raw):
        # SQLAlchemy reads user@secret@host as the user "user@secret" on "host": most
        # likely a password whose ':' was forgotten, which must not be sent (or shown) as
        # a user name. (An '@' written as %40 is one the user meant.)
        raise ValueError(
            f"not a database URL: {mask_url(str(raw))} (an '@' in the user name: write "
            "user:password@host, and %40 for an '@' inside either)"
        )
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ValueError(
            f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql"
        )
    return parsed


def display_url(url: str | URL | Engine) -> str:
    """The URL with its password masked: the only form that may be logged or printed."""
    if isinstance(url, Engine):
        url = url.url
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not parseable: masked without parsing
        return mask_url(str(url))


def without_password(url: str | URL) -> str:
    """The URL with no password at all (libpq finds it itself, e.g. in ``~/.pgpass``):
    how a dead-letter line names the database it was meant for."""
    # URL.set(password=None) keeps the password (None means "unchanged"); the URL is a
    # named tuple, and _replace is how to clear a field.
    return database_url(url)._replace(password=None).render_as_string(hide_password=False)


def make_engine(url: str | URL | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url`` with the settings a concurrent crawler needs.

    SQLite: the file's folder is created; WAL so readers never block the writer;
    ``busy_timeout`` so a second writing process waits instead of failing;
    transactions opened by SQLAlchemy (``BEGIN``, or ``BEGIN IMMEDIATE`` inside
    ``write_transaction``) because the sqlite3 module's own transaction handling breaks
    SAVEPOINTs. PostgreSQL: ``pool_pre_ping`` so a restarted server is noticed at checkout.
    """
    parsed = database_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_engine(parsed, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # NORMAL is durable across application crashes in WAL mode; FULL only adds
        # protection against power loss, at the cost of an fsync per commit.
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Checkpoints (copying the WAL into the database, with an fsync) after 40 MB of
        # WAL instead of 4 MB: a batch of 200 stories writes ~3 MB, and checkpointing
        # after nearly every batch cost a third of the write time in a store of 10,000
        # (benchmarks: 1,200 -> 1,650 stories/s).
        cursor.execute("PRAGMA wal_autocheckpoint=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A deferred transaction that later writes fails at once with SQLITE_BUSY when
        # another process holds the write lock (busy_timeout is not consulted for the lock
        # upgrade), so writers take the lock up front.
        immediate = connection.get_execution_options().get("newscrawl_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def is_sqlite(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "sqlite"


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that will write (``BEGIN IMMEDIATE`` on SQLite)."""
    with engine.connect() as conn:
        conn = conn.execution_options(newscrawl_write=True)
        with conn.begin():
            yield conn
