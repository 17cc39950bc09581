"""The query plans of what a piece of code sends to the database, with full scans flagged.

Every statement any engine of this process executes while ``capture`` is active is
recorded (SQLAlchemy's ``before_cursor_execute`` event on the ``Engine`` class), then
``explain`` asks the database for its plan with the very parameters that were used:
``EXPLAIN QUERY PLAN`` on SQLite, ``EXPLAIN`` on PostgreSQL (not executed). A plan
that reads a whole big table (``SCAN articles`` / ``Seq Scan on articles``) is flagged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event

# Transaction control, settings, DDL and plain inserts: nothing a plan would tell about.
_SKIP = re.compile(
    r"^\s*(INSERT INTO \w+ \([^)]*\) VALUES|PRAGMA|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|"
    r"SET|SHOW|CREATE|DROP|ALTER|select pg_|SELECT pg_|select current_schema|select version)",
    re.I,
)
BIG_TABLES = ("articles", "article_urls", "article_versions")
_SQLITE_SCAN = re.compile(rf"\bSCAN ({'|'.join(BIG_TABLES)})\b(?!_)")
_PG_SCAN = re.compile(rf"Seq Scan on ({'|'.join(BIG_TABLES)})\b(?!_)")

# A scan that stops at its first rows (``LIMIT`` without sorting or grouping) is no defect.
_STOPS_EARLY = re.compile(r"\bLIMIT\b", re.I)
_READS_ALL = re.compile(r"ORDER BY|GROUP BY|DISTINCT|count\(|max\(|min\(", re.I)

Statement = tuple[str, Any]


@contextmanager
def capture() -> Iterator[list[Statement]]:
    """The statements (SQL, first parameter set) executed in the block, in order, once each."""
    seen: dict[str, Any] = {}

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
               executemany: bool) -> None:  # fmt: skip
        if _SKIP.match(statement) or statement in seen:
            return
        seen[statement] = parameters[0] if executemany and parameters else parameters

    event.listen(Engine, "before_cursor_execute", record)
    captured: list[Statement] = []
    try:
        yield captured
    finally:
        event.remove(Engine, "before_cursor_execute", record)
        captured.extend(seen.items())


def explain(engine: Engine, statements: list[Statement]) -> list[tuple[str, list[str], bool]]:
    """``(SQL, plan lines, scans a big table)`` for each statement."""
    sqlite = engine.dialect.name == "sqlite"
    prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
    pattern = _SQLITE_SCAN if sqlite else _PG_SCAN
    plans = []
    with engine.connect() as conn:
        for sql, parameters in statements:
            try:
                rows = conn.exec_driver_sql(prefix + sql, parameters or ()).all()
            except Exception as exc:  # a plan we cannot get is reported, not fatal
                conn.rollback()
                plans.append((sql, [f"(no plan: {str(exc).splitlines()[0]})"], False))
                continue
            lines = [str(row[-1]) for row in rows]
            scans = any(pattern.search(line) for line in lines)
            bounded = _STOPS_EARLY.search(sql) and not _READS_ALL.search(sql)
            plans.append((sql, lines, scans and not bounded))
        conn.rollback()
    return plans


def report(title: str, plans: list[tuple[str, list[str], bool]]) -> str:
    """The plans as text: the statement on one line, its plan indented, FULL SCAN marked."""
    out = [f"--- plans: {title}"]
    for sql, lines, scans in plans:
        flag = "FULL SCAN  " if scans else ""
        out.append(f"{flag}{' '.join(sql.split())[:300]}")
        out.extend(f"    {line}" for line in lines)
    return "\n".join(out)
