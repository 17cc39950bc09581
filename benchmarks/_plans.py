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
from itertools import takewhile
from typing import Any

from sqlalchemy import Engine, event

# Transaction control, settings, DDL and plain inserts: nothing a plan would tell about.
_SKIP = re.compile(
    r"^\s*(INSERT INTO \w+ \([^)]*\) VALUES|PRAGMA|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|"
    r"SET|SHOW|CREATE|DROP|ALTER|select pg_|SELECT pg_|select current_schema|select version)",
    re.I,
)
BIG_TABLES = ("articles", "article_urls", "article_versions", "crawl_runs")
_TABLES = "|".join(BIG_TABLES)
# SQLite: a table scan, or an index scan that reads the row of every entry; a scan of a
# covering index reads the narrow entries alone (40-60 bytes a story, not ~4 KB).
_SQLITE_SCAN = re.compile(rf"\bSCAN ({_TABLES})\b(?!_)(?! USING COVERING INDEX)")
_SQLITE_INDEX_WALK = re.compile(rf"\bSCAN ({_TABLES})\b(?!_) USING (COVERING )?INDEX")
_SQLITE_SORTS_ALL = re.compile(r"USE TEMP B-TREE FOR (ORDER BY|GROUP BY|DISTINCT)")
# PostgreSQL: a sequential scan, or an index scan without a condition (every row read).
_PG_SCAN = re.compile(rf"Seq Scan on ({_TABLES})\b(?!_)")
_PG_INDEX_WALK = re.compile(rf"Index Scan( Backward)? using \w+ on ({_TABLES})\b(?!_)")
_PG_LIMIT = re.compile(r"^\s*(->\s*)?Limit\b")

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


def explain(
    engine: Engine, statements: list[Statement], settings: tuple[str, ...] = ()
) -> list[tuple[str, list[str], bool]]:
    """``(SQL, plan lines, reads every row of a big table)`` for each statement.

    ``settings``: statements run first on the explaining connection (on a small
    PostgreSQL store ``SET enable_seqscan = off`` shows the plan a big one gets).
    """
    sqlite = engine.dialect.name == "sqlite"
    prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
    plans = []
    with engine.connect() as conn:
        for setting in settings:
            conn.exec_driver_sql(setting)
        for sql, parameters in statements:
            try:
                rows = conn.exec_driver_sql(prefix + sql, parameters or ()).all()
            except Exception as exc:  # a plan we cannot get is reported, not fatal
                conn.rollback()
                plans.append((sql, [f"(no plan: {str(exc).splitlines()[0]})"], False))
                continue
            lines = [str(row[-1]) for row in rows]
            scans = _sqlite_scans(sql, lines) if sqlite else _pg_scans(lines)
            plans.append((sql, lines, scans))
        conn.rollback()
    return plans


def _sqlite_scans(sql: str, lines: list[str]) -> bool:
    """Whether a SQLite plan reads every row of a big table (see ``explain``)."""
    if _STOPS_EARLY.search(sql) and not _READS_ALL.search(sql):
        return False
    for line in lines:
        if not _SQLITE_SCAN.search(line):
            continue
        # An index walk a LIMIT stops (no sort of everything first) reads a few rows.
        walk = _SQLITE_INDEX_WALK.search(line) and _STOPS_EARLY.search(sql)
        if not (walk and not any(_SQLITE_SORTS_ALL.search(other) for other in lines)):
            return True
    return False


def _pg_scans(lines: list[str]) -> bool:
    """Whether a PostgreSQL plan reads every row of a big table: a sequential scan, or an
    index scan with no condition that no Limit above it stops."""
    for n, line in enumerate(lines):
        if _PG_SCAN.search(line):
            return True
        if _PG_INDEX_WALK.search(line):
            depth = _indent(line)
            details = list(takewhile(lambda rest, d=depth: _indent(rest) > d, lines[n + 1 :]))
            conditioned = any("Index Cond" in detail for detail in details)
            limited = any(_PG_LIMIT.search(above) for above in lines[:n])
            if not conditioned and not limited:
                return True
    return False


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def report(title: str, plans: list[tuple[str, list[str], bool]]) -> str:
    """The plans as text: the statement on one line, its plan indented, FULL SCAN marked."""
    out = [f"--- plans: {title}"]
    for sql, lines, scans in plans:
        flag = "FULL SCAN  " if scans else ""
        out.append(f"{flag}{' '.join(sql.split())[:300]}")
        out.extend(f"    {line}" for line in lines)
    return "\n".join(out)
