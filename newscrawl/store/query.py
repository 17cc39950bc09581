"""Read the store for people: search, one story in full, and statistics.

Functions from an engine and filters to plain rows (``dict`` per row, columns as in
the models), so ``scrapy articles`` only parses arguments and picks an output format.
Every query is a SQLAlchemy expression with bound parameters: user input never
becomes SQL text, and the same code runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Engine,
    Select,
    event,
    inspect,
    literal,
    select,
    union,
)
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from newscrawl.dates import parse_since, parse_user_time
from newscrawl.store.engine import database_url, display_url, make_engine
from newscrawl.store.models import Article, ArticleUrl, ArticleVersion
from newscrawl.store.search import RESULT_COLUMNS, SearchTooLong, search
from newscrawl.store.search import _filters as store_filters
from newscrawl.store.validate import PART_FIELDS
from newscrawl.urls import strip_url

ARTICLE_COLUMNS: tuple[str, ...] = tuple(column.name for column in RESULT_COLUMNS)
"""Every column of ``articles`` but the SimHash bands (index keys, derived from ``simhash``)."""
PART_COLUMNS = PART_FIELDS
"""JSON lists of a story's parts: fact boxes, tables, live-ticker entries."""
URL_COLUMNS = ("first_seen_at", "last_seen_at", "site", "article_id", "url")
VERSION_COLUMNS = ("id", "fetched_at", "modified_at", "title")
_DATE_ONLY = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")
SQLITE_PROGRESS_STEPS = 10_000
"""SQLite virtual machine steps between two chances for Ctrl-C (a few microseconds)."""


Database = Engine
"""What the reading functions take: an engine from ``open_database``."""
DATABASE_ERRORS = (SQLAlchemyError,)
"""What a failing database raises through these functions (``is_interrupted`` tells
Ctrl-C apart)."""


class QueryError(ValueError):
    """Input that cannot be answered (unknown site, bad date); the message is one line."""


class DatabaseUnusable(Exception):
    """No database to read at that URL (no file, no newscrawl tables); one line."""


def parse_database_url(url: str | None) -> URL:
    """The URL to read (``QueryError`` if it is none); ``display_url`` of it for messages."""
    try:
        return database_url(url)
    except ValueError as exc:
        raise QueryError(str(exc)) from None


def open_database(parsed: URL) -> Database:
    """An interruptible engine on a database that holds the newscrawl tables."""
    shown = display_url(parsed)
    # A missing SQLite file would be created empty: say what is wrong instead.
    database = parsed.database
    file_backed = database not in (None, "", ":memory:")
    if parsed.get_backend_name() == "sqlite" and file_backed and not Path(database).is_file():
        raise DatabaseUnusable(f"database {shown} does not exist; crawl first or give --database")
    engine = interruptible(make_engine(parsed))
    # Without this an empty or foreign database fails with "no such table: articles"
    # (SQLite) or "relation does not exist" (PostgreSQL), which does not say what to do.
    try:
        if not inspect(engine).has_table(Article.__tablename__):
            raise DatabaseUnusable(
                f"the database at {shown} has no newscrawl tables; "
                "run a crawl or `python -m newscrawl.store upgrade`"
            )
    except BaseException:
        engine.dispose()
        raise
    return engine


@dataclass(frozen=True)
class Filters:
    """What narrows the articles; the names are ``newscrawl.store.search``'s keywords."""

    site: str | None = None
    section: str | None = None
    author: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    paywall: bool | None = None

    def as_kwargs(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Story:
    """One article with everything the store knows about it."""

    article: dict[str, Any]
    urls: list[dict[str, Any]] = field(default_factory=list)
    versions: list[dict[str, Any]] = field(default_factory=list)


# --- Ctrl-C -------------------------------------------------------------------------------


def interruptible(engine: Engine) -> Engine:
    """``engine``, made to stop a running SQLite statement on Ctrl-C.

    The sqlite3 module runs a statement to its end without returning to Python, so a
    KeyboardInterrupt would wait for it. A progress handler is Python code that SQLite
    calls every few thousand steps; the pending interrupt is raised there, and sqlite3
    aborts the statement with SQLITE_INTERRUPT (see ``is_interrupted``). psycopg needs
    nothing: it cancels the server's statement on KeyboardInterrupt itself.
    """
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _add_progress_handler)
    return engine


def _add_progress_handler(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    dbapi_connection.set_progress_handler(_keep_going, SQLITE_PROGRESS_STEPS)


def _keep_going() -> int:
    return 0


def is_interrupted(exc: SQLAlchemyError) -> bool:
    """Whether ``exc`` is how sqlite3 reports a KeyboardInterrupt in the progress handler."""
    orig = getattr(exc, "orig", None)
    return (
        isinstance(orig, sqlite3.OperationalError)
        and orig.sqlite_errorcode == sqlite3.SQLITE_INTERRUPT
    )


# --- argument parsing helpers -----------------------------------------------------------


def parse_since_arg(value: str) -> datetime:
    try:
        return parse_since(value)
    except ValueError:
        raise QueryError(
            f"--since {value!r} is neither an ISO date (2024-04-26) nor a duration (6h, 2d)"
        ) from None


def parse_until_arg(value: str) -> datetime:
    """An ISO date or datetime; a bare date means the whole of that day (UTC)."""
    parsed = parse_user_time(value)
    if parsed is None:
        raise QueryError(f"--until {value!r} is not an ISO date (2024-04-26) or datetime")
    if _DATE_ONLY.match(value):
        # The last instant of the day, so that both `<` and `<=` comparisons include it.
        parsed += timedelta(days=1, microseconds=-1)
    return parsed


def parse_paywall_arg(value: str) -> bool:
    answers = {"yes": True, "no": False}
    if value.strip().lower() not in answers:
        raise QueryError(f"--paywall must be yes or no, not {value!r}")
    return answers[value.strip().lower()]


def parse_limit_arg(value: str) -> int:
    if not value.strip().isdigit() or int(value) < 1:
        raise QueryError(f"--limit must be a positive whole number, not {value!r}")
    return int(value)


def stored_sites(engine: Engine) -> set[str]:
    """Every site the database holds an article or a publication URL of."""
    query = union(select(Article.site).distinct(), select(ArticleUrl.site).distinct())
    with engine.connect() as conn:
        return set(conn.execute(query).scalars())


def check_site(site: str, engine: Engine, registry_domains: Sequence[str]) -> str:
    """``site`` normalized; a site neither registered nor stored is an error naming both."""
    wanted = site.strip().lower()
    in_database = stored_sites(engine)
    if wanted in in_database or wanted in registry_domains:
        return wanted
    known = ", ".join(sorted(in_database)) or "none"
    raise QueryError(f"unknown site {site!r}: not in the registry; sites in the database: {known}")


# --- search -------------------------------------------------------------------------------


def find_articles(
    engine: Engine, words: Sequence[str], filters: Filters, limit: int
) -> list[dict[str, Any]]:
    """Full-text search, best first (the store's ranking); no words: the latest articles."""
    text = " ".join(words).strip()
    if text:
        try:
            rows = search(engine, text, limit=limit, **filters.as_kwargs())
        except SearchTooLong as exc:
            raise QueryError(str(exc)) from None
    else:
        rows = latest_articles(engine, filters, limit)
    return [{name: row.get(name) for name in ARTICLE_COLUMNS} for row in rows]


def latest_articles(engine: Engine, filters: Filters, limit: int) -> list[dict[str, Any]]:
    """Newest first by publication date; the store's ``search`` needs words, this does not."""
    statement = (
        select(*RESULT_COLUMNS)
        .where(*store_filters(engine, **filters.as_kwargs()))
        .order_by(Article.published_at.desc().nulls_last(), Article.id.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(statement).mappings()]


# --- show -----------------------------------------------------------------------------------


def find_story(engine: Engine, ref: str) -> Story | None:
    """The story ``ref`` names: a URL it was published under, an online id or a row id.

    Digits are tried as an online id first (7-9 digits, network-wide), then as the row
    id: an online id is what people copy from a URL.
    """
    ref = ref.strip()
    with engine.connect() as conn:
        article_id = conn.execute(_story_id_query(ref)).scalar()
        if article_id is None:
            return None
        article = conn.execute(select(*RESULT_COLUMNS).where(Article.id == article_id)).one()
        urls = conn.execute(
            select(*(ArticleUrl.__table__.c[name] for name in URL_COLUMNS))
            .where(ArticleUrl.article == article_id)
            .order_by(ArticleUrl.first_seen_at, ArticleUrl.url)
        )
        versions = conn.execute(
            select(ArticleVersion.__table__)
            .where(ArticleVersion.article == article_id)
            .order_by(ArticleVersion.fetched_at, ArticleVersion.id)
        )
        return Story(
            article=dict(article._mapping),
            urls=[dict(row._mapping) for row in urls],
            versions=[dict(row._mapping) for row in versions],
        )


def _story_id_query(ref: str) -> Select[Any]:
    if "://" in ref:
        urls = list(dict.fromkeys([ref, strip_url(ref)]))
        canonical = select(Article.id.label("story")).where(Article.url.in_(urls))
        published = select(ArticleUrl.article.label("story")).where(ArticleUrl.url.in_(urls))
        return select(union(canonical, published).subquery().c.story).limit(1)
    if not ref.isdigit():
        raise QueryError(f"{ref!r} is neither a URL nor an article id")
    # An online id beats a row id: it is what people copy from a URL.
    # Three indexed lookups: with ``article_id = ? OR id IN (...)`` PostgreSQL read the
    # whole table (130 ms in a store of 200,000).
    online = select(Article.id.label("story"), literal(0).label("kind")).where(
        Article.article_id == ref
    )
    published = select(ArticleUrl.article.label("story"), literal(0).label("kind")).where(
        ArticleUrl.article_id == ref
    )
    by_row = select(Article.id.label("story"), literal(1).label("kind")).where(
        Article.id == int(ref)
    )
    ranked = union(online, published, by_row).subquery()
    return select(ranked.c.story).order_by(ranked.c.kind, ranked.c.story).limit(1)
