"""Full-text search with one Python API on SQLite (FTS5) and PostgreSQL (tsvector).

Query syntax (web-search style, the same on both): words must all occur, ``"a phrase"``
must occur as written, ``-word`` must not occur. Matching is each database's own:
PostgreSQL stems German words (``Gärten`` finds ``Garten``); SQLite matches words by
prefix (``Pflanze`` finds ``Pflanzen``), case- and accent-insensitively. The query is
always a bound parameter, never SQL text. Ranking: title hits weigh most, then lead,
then body, boxes and tables (``setweight`` A/B on PostgreSQL, bm25 column weights on
SQLite). Boxes and tables are searched through ``articles.parts_text``, which the writer
fills with ``newscrawl.extract.parts.parts_text`` (migration 0007 says why).

Indexing: SQLite's FTS5 table follows every write through triggers. PostgreSQL's
``search_vector`` is filled by ``index_pending`` after the write commits (migration 0004
says why): ``write_batch`` does it for its own stories, the crawl on a second connection
beside its writes, so a story is searchable once its crawl has ended.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    Select,
    bindparam,
    column,
    exists,
    func,
    literal_column,
    select,
    table,
    text,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB

from newscrawl.store.models import Article

_TERM = re.compile(r'(-?)"([^"]*)"|(-?)(\S+)')
# Internal columns: not part of a search result.
_HIDDEN = {"simhash_band0", "simhash_band1", "simhash_band2", "simhash_band3",
           "canonical_declared_at", "parts_text"}  # fmt: skip
RESULT_COLUMNS = [c for c in Article.__table__.c if c.name not in _HIDDEN]
TITLE_WEIGHT, LEAD_WEIGHT, TEXT_WEIGHT, PARTS_WEIGHT = 10.0, 5.0, 1.0, 1.0
_FTS = table("articles_fts", column("rowid"))
INDEX_CHUNK = 500
"""Rows per indexing transaction: short row locks, steady progress."""
SEARCH_VECTOR = """setweight(to_tsvector('german', coalesce(title, '')), 'A')
    || setweight(to_tsvector('german', coalesce(lead, '')), 'B')
    || to_tsvector('german', coalesce(text, ''))
    || to_tsvector('german', coalesce(parts_text, ''))"""
# SKIP LOCKED: several crawls (machines) index side by side without waiting on each other.
_INDEX_PENDING = text(f"""UPDATE articles SET search_vector = {SEARCH_VECTOR}
    WHERE id IN (SELECT id FROM articles WHERE search_vector IS NULL
                 ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED)""")
_INDEX_IDS = text(f"""UPDATE articles SET search_vector = {SEARCH_VECTOR}
    WHERE id = ANY(:ids) AND search_vector IS NULL""")


def index_pending(engine: Engine, ids: list[int] | None = None) -> int:
    """Fill the PostgreSQL search vector of stories that lack it; returns how many.

    ``ids``: only these stories, in one transaction; else every pending story, in
    transactions of ``INDEX_CHUNK`` rows. A no-op on SQLite (FTS5 triggers index at once).
    """
    if engine.dialect.name != "postgresql":
        return 0
    if ids is not None:
        if not ids:
            return 0
        with engine.begin() as conn:
            return conn.execute(_INDEX_IDS, {"ids": ids}).rowcount
    total = 0
    while True:
        with engine.begin() as conn:
            done = conn.execute(_INDEX_PENDING, {"limit": INDEX_CHUNK}).rowcount
        total += done
        if done < INDEX_CHUNK:
            return total


def pending_count(engine: Engine) -> int:
    """Stories not yet in the PostgreSQL search index (always 0 on SQLite)."""
    if engine.dialect.name != "postgresql":
        return 0
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT count(*) FROM articles WHERE search_vector IS NULL")
        ).scalar_one()


def fts5_query(query: str) -> str | None:
    """The FTS5 expression for a web-search-style query (None: nothing to search for).

    Every term is quoted, so FTS5 operators typed by a user are plain words.
    """
    positive: list[str] = []
    negative: list[str] = []
    for match in _TERM.finditer(query):
        negated = bool(match.group(1) or match.group(3))
        phrase = match.group(2)
        term = phrase if phrase is not None else match.group(4).strip("\"'")
        words = re.findall(r"\w+", term)
        if not words:
            continue
        quoted = '"' + " ".join(words) + '"'
        if phrase is None and len(words) == 1:
            quoted += "*"
        (negative if negated else positive).append(quoted)
    if not positive:
        return None
    expression = " AND ".join(positive)
    return expression + "".join(f" NOT {term}" for term in negative)


def _json_contains(engine: Engine, column: Any, value: str) -> ColumnElement[bool]:
    if engine.dialect.name == "postgresql":
        # The mapped type is generic JSON; JSONB's containment (@>) uses the GIN-able operator.
        return type_coerce(column, JSONB).contains([value])
    each = func.json_each(column).table_valued("value")
    return exists(select(1).select_from(each).where(each.c.value == value))


def _filters(
    engine: Engine,
    site: str | None,
    section: str | None,
    author: str | None,
    since: datetime | None,
    until: datetime | None,
    paywall: bool | None,
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if site is not None:
        conditions.append(Article.site == site)
    if section is not None:
        conditions.append(_json_contains(engine, Article.section, section))
    if author is not None:
        conditions.append(_json_contains(engine, Article.authors, author))
    if since is not None:
        conditions.append(Article.published_at >= since)
    if until is not None:
        conditions.append(Article.published_at <= until)
    if paywall is not None:
        conditions.append(Article.paywall == paywall)
    return conditions


def _ranking(engine: Engine, query: str, filtered: bool, limit: int) -> Select[Any] | None:
    """The matching stories' ids, publication dates and ranks (no other column: see
    ``search``); None if the query has nothing to search for.

    ``filtered``: conditions on ``articles`` will be added; ``limit``: how many of the
    best are wanted.
    """
    if engine.dialect.name == "postgresql":
        tsquery = func.websearch_to_tsquery("german", bindparam("q", query))
        vector = literal_column("articles.search_vector")
        rank = func.ts_rank_cd(vector, tsquery).label("rank")
        return select(Article.id, Article.published_at, rank).where(vector.op("@@")(tsquery))
    expression = fts5_query(query)
    if expression is None:
        return None
    fts = literal_column("articles_fts")
    weights = (TITLE_WEIGHT, LEAD_WEIGHT, TEXT_WEIGHT, PARTS_WEIGHT)
    match = fts.op("MATCH")(bindparam("q", expression))
    # bm25 is smaller for better matches; negated so 'rank' grows with relevance on both.
    score = -func.bm25(fts, *weights)
    ranking = (
        select(Article.id, Article.published_at, score.label("rank"))
        .select_from(_FTS)
        .join(Article, Article.id == _FTS.c.rowid)
        .where(match)
    )
    if filtered:
        return ranking
    # Without filters the ranking needs no row of articles: the limit-th best rank is
    # found in the index alone, and only matches that good are joined for the date
    # (the tie-break). Joining every match read each story from disk: 4.8 s for a word
    # in 1 in 8 of a million stories, 0.4 s in the index alone.
    top = select(score.label("rank")).select_from(_FTS).where(match)
    top = top.order_by(score.desc()).limit(max(1, limit)).subquery()
    return ranking.where(score >= select(func.min(top.c.rank)).scalar_subquery())


def search(
    engine: Engine,
    query: str,
    *,
    site: str | None = None,
    section: str | None = None,
    author: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    paywall: bool | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Stories matching ``query`` and every given filter, best first.

    ``section``/``author`` match one element of the story's list exactly; ``since`` and
    ``until`` bound ``published_at`` (inclusive). Each row is a dict of the ``articles``
    columns (JSON decoded, datetimes UTC-aware) plus ``rank`` (higher is better).
    """
    conditions = _filters(engine, site, section, author, since, until, paywall)
    ranking = _ranking(engine, query, bool(conditions), limit)
    if ranking is None:
        return []
    # The best ``limit`` are picked from narrow rows (id, date, rank) and only they are
    # read in full: sorting every match with its text made a word found in a tenth of a
    # year's stories cost seconds (benchmarks/bench_year.py).
    best = (
        ranking.where(*conditions)
        .order_by(ranking.selected_columns.rank.desc(), Article.published_at.desc(), Article.id)
        .limit(max(0, limit))
        .subquery()
    )
    statement = (
        select(*RESULT_COLUMNS, best.c.rank)
        .join(best, Article.id == best.c.id)
        .order_by(best.c.rank.desc(), best.c.published_at.desc(), best.c.id)
    )
    with engine.connect() as conn:
        rows = conn.execute(statement).mappings().all()
    return [dict(row) for row in rows]
