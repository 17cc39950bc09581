"""Build a store of a year (up to millions of stories) in minutes, on SQLite and PostgreSQL.

``write_batch`` stores ~1,500 stories/s at best, so a million would take hours; this
loader writes the same tables directly (SQLite ``executemany`` in big transactions,
PostgreSQL ``COPY``) after the schema was made by the store's own migrations, then fills
the search index the way the migrations would (FTS5 ``rebuild``; the ``german`` tsvector
of ``newscrawl.store.search``). Secondary indexes are dropped during the load and made
again after it, from their own stored definitions, which is how bulk loads are done on
both databases (an index built once is far cheaper than one grown row by row).

What the stories look like: ``benchmarks/_bulk_stories.py``.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy.engine import make_url

from benchmarks._bulk_runs import RUNS_A_YEAR, load_runs
from benchmarks._bulk_stories import YEAR, Chunk, Stories
from newscrawl.store import make_engine, migrate
from newscrawl.store.search import SEARCH_VECTOR

ARTICLE_COLUMNS = (
    "id", "url", "site", "article_id", "title", "seo_title", "kicker", "lead", "text",
    "description", "authors", "author_urls", "section", "keywords", "entities", "image_url",
    "publisher", "language", "paywall", "cms_client_id", "links", "published_at",
    "modified_at", "first_seen_at", "fetched_at", "canonical_declared_at", "content_hash",
    "simhash", "simhash_band0", "simhash_band1", "simhash_band2", "simhash_band3",
    "word_count",
)  # fmt: skip
JSON_COLUMNS = {"authors", "author_urls", "section", "keywords", "entities", "links"}
URL_COLUMNS = ("url", "site", "article_id", "article", "first_seen_at", "last_seen_at")
VERSION_COLUMNS = ("article", "title", "lead", "text", "modified_at", "content_hash", "fetched_at")


@dataclass
class BuildReport:
    stories: int
    urls: int
    versions: int
    seconds: dict[str, float]


def build(
    url: str,
    count: int,
    now: datetime | None = None,
    seed: int = 1,
    runs: int = RUNS_A_YEAR,
    span: timedelta = YEAR,
) -> BuildReport:
    """Create the schema at ``url`` (an empty database), load ``count`` stories published
    over the ``span`` before ``now`` and ``runs`` cron runs (a year's by default). A
    store of a week at the same rate: ``count / 52``, ``span=timedelta(days=7)``,
    ``runs=RUNS_A_YEAR // 52``."""
    now = now or datetime.now(UTC)
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    stories = Stories(count, now, seed, span)
    backend = make_url(url).get_backend_name()
    loader = _load_sqlite if backend == "sqlite" else _load_postgresql
    report = loader(url, stories)
    load_runs(url, now, runs)
    return report


def _sqlite_value(name: str, value: Any) -> Any:
    if name in JSON_COLUMNS:
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime):
        # SQLAlchemy's SQLite DateTime storage format (UTC, naive).
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return value


def _sqlite_rows(
    columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> Iterator[tuple[Any, ...]]:
    for row in rows:
        yield tuple(_sqlite_value(name, value) for name, value in zip(columns, row, strict=True))


def _insert(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def _load_sqlite(url: str, stories: Stories) -> BuildReport:
    conn = sqlite3.connect(make_url(url).database, isolation_level=None)
    seconds: dict[str, float] = {}
    counts = [0, 0, 0]
    try:
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-1000000")
        # Secondary indexes and the FTS insert trigger go while loading, made again after.
        saved = conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND "
            "((type = 'index' AND tbl_name IN ('articles', 'article_urls', 'article_versions'))"
            " OR name = 'articles_fts_insert')"
        ).fetchall()
        for kind, name, _ in saved:
            conn.execute(f"DROP {kind.upper()} {name}")
        started = time.perf_counter()
        for chunk in stories.chunks():
            conn.execute("BEGIN")
            conn.executemany(
                _insert("articles", ARTICLE_COLUMNS), _sqlite_rows(ARTICLE_COLUMNS, chunk.articles)
            )
            conn.executemany(
                _insert("article_urls", URL_COLUMNS), _sqlite_rows(URL_COLUMNS, chunk.urls)
            )
            conn.executemany(
                _insert("article_versions", VERSION_COLUMNS),
                _sqlite_rows(VERSION_COLUMNS, chunk.versions),
            )
            conn.execute("COMMIT")
            counts = [c + len(rows) for c, rows in zip(counts, _rows(chunk), strict=True)]
        seconds["rows"] = time.perf_counter() - started
        started = time.perf_counter()
        for _, _, sql in saved:
            conn.execute(sql)
        seconds["indexes"] = time.perf_counter() - started
        started = time.perf_counter()
        conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")
        seconds["search index"] = time.perf_counter() - started
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return BuildReport(*counts, seconds)


def _rows(chunk: Chunk) -> tuple[list[Any], list[Any], list[Any]]:
    return chunk.articles, chunk.urls, chunk.versions


def _pg_value(name: str, value: Any) -> Any:
    return Jsonb(value) if name in JSON_COLUMNS else value


def _copy(
    conn: psycopg.Connection[Any], table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([_pg_value(n, v) for n, v in zip(columns, row, strict=True)])


def _load_postgresql(url: str, stories: Stories) -> BuildReport:
    parsed = make_url(url).set(drivername="postgresql")
    seconds: dict[str, float] = {}
    counts = [0, 0, 0]
    with psycopg.connect(parsed.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        saved = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN "
            "('articles', 'article_urls', 'article_versions') "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
        ).fetchall()
        for name, _ in saved:
            conn.execute(f'DROP INDEX "{name}"')
        started = time.perf_counter()
        # Stories go through a staging table so that each row is written once, with its
        # search vector (an UPDATE afterwards would write every row twice).
        conn.execute("CREATE TEMP TABLE articles_stage (LIKE articles INCLUDING DEFAULTS)")
        columns = ", ".join(ARTICLE_COLUMNS)
        for chunk in stories.chunks():
            with conn.transaction():
                _copy(conn, "articles_stage", ARTICLE_COLUMNS, chunk.articles)
                conn.execute(
                    f"INSERT INTO articles ({columns}, search_vector) "
                    f"SELECT {columns}, {SEARCH_VECTOR} FROM articles_stage"
                )
                conn.execute("TRUNCATE articles_stage")
                _copy(conn, "article_urls", URL_COLUMNS, chunk.urls)
                _copy(conn, "article_versions", VERSION_COLUMNS, chunk.versions)
            counts = [c + len(rows) for c, rows in zip(counts, _rows(chunk), strict=True)]
        seconds["rows and search index"] = time.perf_counter() - started
        started = time.perf_counter()
        for _, definition in saved:
            conn.execute(definition)
        for table in ("articles", "article_urls", "article_versions"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        conn.execute("VACUUM ANALYZE")
        seconds["indexes"] = time.perf_counter() - started
    return BuildReport(*counts, seconds)
