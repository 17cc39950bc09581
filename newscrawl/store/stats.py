"""Statistics of the store for people: articles per day and site, sections, authors,
stories on several portals, crawl runs (not Scrapy's crawl stats).

Each table is one SQLAlchemy Core query with bound parameters, on SQLite and PostgreSQL
alike; where the databases spell a thing differently (the day of a timestamp, the
elements of a JSON list) one small construct hides it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Engine,
    FunctionElement,
    Select,
    String,
    cast,
    false,
    func,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from newscrawl.store.models import Article, CrawlRun
from newscrawl.store.query import Filters
from newscrawl.store.syndicated import syndicated

STAT_TABLES = ("days", "sections", "authors", "syndicated", "runs")


@dataclass
class StatTable:
    columns: list[str]
    rows: list[dict[str, Any]]


class utc_day(FunctionElement[str]):
    """``YYYY-MM-DD`` of a UTC timestamp column, the same string on both databases.

    SQLite stores UTC as text (``date()`` cuts it); PostgreSQL's ``date()`` would use
    the session's time zone, so the day is taken at UTC explicitly.
    """

    type = String()
    inherit_cache = True
    name = "utc_day"


@compiles(utc_day, "sqlite")
def _utc_day_sqlite(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_day, "postgresql")
def _utc_day_postgresql(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


def _article_filters(filters: Filters) -> list[ColumnElement[bool]]:
    """The filters stats honour (site and publication window) as WHERE clauses."""
    clauses: list[ColumnElement[bool]] = []
    if filters.site:
        clauses.append(Article.site == filters.site)
    if filters.since:
        clauses.append(Article.published_at >= filters.since)
    if filters.until:
        clauses.append(Article.published_at <= filters.until)
    return clauses


def stats(
    engine: Engine, filters: Filters, limit: int, tables: Sequence[str] = STAT_TABLES
) -> dict[str, StatTable]:
    """``{table name: columns and rows}`` for each of ``tables`` (``STAT_TABLES``), in that order.

    ``limit`` is the rows per table, except ``days``: the latest ``limit`` days, every
    site of each.
    """
    where = _article_filters(filters)
    builders: dict[str, Callable[[Connection], Select[Any]]] = {
        "days": lambda conn: _days(conn, where, limit),
        "sections": lambda _: _sections(where, limit),
        "authors": lambda _: _authors(engine, where, limit),
        "syndicated": lambda conn: syndicated(conn, where, limit),
        "runs": lambda _: _runs(limit),
    }
    result: dict[str, StatTable] = {}
    with engine.connect() as conn:
        for table in tables:
            rows = conn.execute(builders[table](conn))
            result[table] = StatTable(list(rows.keys()), [dict(row._mapping) for row in rows])
    for row in result["syndicated"].rows if "syndicated" in result else []:
        # String aggregation order is not defined in SQL; sort for stable output.
        row["sites"] = ", ".join(sorted(row["sites"].split(",")))
    return result


def _days(conn: Connection, where: list[ColumnElement[bool]], limit: int) -> Select[Any]:
    days = _latest_days(conn, where, limit)
    day = utc_day(Article.published_at)
    # The days as one range of publication times, which the index on published_at
    # serves; a condition on the day string itself made both databases read every
    # story (at a million stories that was most of the command's time).
    window = (
        [
            Article.published_at >= datetime.combine(min(days), dtime.min, UTC),
            Article.published_at < datetime.combine(max(days) + timedelta(days=1), dtime.min, UTC),
        ]
        if days
        else [false()]
    )
    return (
        select(day.label("day"), Article.site, func.count().label("articles"))
        .where(*where, *window)
        .group_by(day, Article.site)
        .order_by(day.desc(), Article.site)
    )


def _latest_days(conn: Connection, where: list[ColumnElement[bool]], limit: int) -> list[date]:
    """The latest ``limit`` UTC days with a story, newest first.

    Walked back one day at a time: each step is the newest publication before the day
    found last, which both databases answer from the end of the published_at index
    instead of grouping every story by its day. Undated stories have no day.
    """
    days: list[date] = []
    before: datetime | None = None
    while len(days) < limit:
        newer = [Article.published_at < before] if before else []
        latest = conn.execute(
            select(func.max(Article.published_at)).where(
                *where, Article.published_at.is_not(None), *newer
            )
        ).scalar()
        if latest is None:
            break
        days.append(latest.astimezone(UTC).date())
        before = datetime.combine(days[-1], dtime.min, UTC)
    return days


def _sections(where: list[ColumnElement[bool]], limit: int) -> Select[Any]:
    # The top level of the section path: "Politik" for ["Politik", "Ausland"]. Stories are
    # counted per distinct path in ix_articles_section_site alone (a few hundred paths),
    # then the paths are summed by their top level: grouping by the top level itself
    # read every story (migration 0008). SQLite is told the index: for one site it
    # took the site's index and read each of its stories' rows (6 s at a million).
    paths = (
        select(Article.section.label("path"), func.count().label("stories"))
        .with_hint(Article, "INDEXED BY ix_articles_section_site", "sqlite")
        .where(*where)
        .group_by(Article.section)
        .subquery()
    )
    section = paths.c.path[0].as_string()
    total = cast(func.sum(paths.c.stories), BigInteger)
    return (
        select(section.label("section"), total.label("articles"))
        .group_by(section)
        .order_by(total.desc(), section)
        .limit(limit)
    )


def _authors(engine: Engine, where: list[ColumnElement[bool]], limit: int) -> Select[Any]:
    # As sections: stories per distinct author list in ix_articles_authors_site, then the
    # lists split into names. DISTINCT keeps a name twice in one list counted once.
    lists = (
        select(Article.authors.label("names"), func.count().label("stories"))
        .with_hint(Article, "INDEXED BY ix_articles_authors_site", "sqlite")
        .where(*where)
        .group_by(Article.authors)
        .subquery()
    )
    names = _json_elements(engine, lists.c.names)
    per_list = (
        select(lists.c.names, names.c.value, lists.c.stories)
        .select_from(lists)
        .join(names, names.c.value.isnot(None))
        .distinct()
        .subquery()
    )
    total = cast(func.sum(per_list.c.stories), BigInteger)
    return (
        select(per_list.c.value.label("author"), total.label("articles"))
        .group_by(per_list.c.value)
        .order_by(total.desc(), per_list.c.value)
        .limit(limit)
    )


def _json_elements(engine: Engine, column: Any) -> Any:
    """The elements of a JSON list column as a table with a ``value`` column.

    The two databases name this differently (``json_each`` / ``jsonb_array_elements_text``);
    PostgreSQL needs the column list spelled out (``render_derived``).
    """
    if engine.dialect.name == "sqlite":
        return func.json_each(column).table_valued("value")
    return func.jsonb_array_elements_text(column).table_valued("value").render_derived()


def _runs(limit: int) -> Select[Any]:
    return (
        select(
            CrawlRun.id,
            CrawlRun.started_at,
            CrawlRun.finished_at,
            CrawlRun.spider,
            CrawlRun.status,
            CrawlRun.new,
            CrawlRun.updated,
            CrawlRun.unchanged,
            CrawlRun.duplicates,
            CrawlRun.failed,
            CrawlRun.sites,
        )
        .order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc())
        .limit(limit)
    )
