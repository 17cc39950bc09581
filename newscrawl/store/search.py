"""Full-text search with one Python API on SQLite (FTS5) and PostgreSQL (tsvector).

Query syntax (web-search style, the same on both): words must all occur, ``"a phrase"``
must occur as written, ``-word`` must not occur. Matching is each database's own:
PostgreSQL stems German words (``Gärten`` finds ``Garten``); SQLite matches words by
prefix (``Pflanze`` finds ``Pflanzen``), case- and accent-insensitively, except a word
that is, as written, in ``SEARCH_CANDIDATES`` stories or more (``_common_words``). The query is
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
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
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
SEARCH_CANDIDATES = 10_000
"""Matches SQLite ranks at most: a query matching more is ranked among its newest this
many (ids grow with the time a story is first stored). Ranking every match of a word found
in every story of a year took 7.9 s on SQLite (bm25 of a million rows)."""
MAX_QUERY_WORDS = 32
"""Words a search may have: each is an index walk (800 took 13 s on SQLite)."""
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


class SearchTooLong(ValueError):
    """A query of more than ``MAX_QUERY_WORDS`` words; the message is one line."""


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


def _fts5_terms(query: str) -> list[tuple[str, bool, bool]]:
    """``(quoted term, negated, matched by prefix)`` for each term of ``query``.

    Every term is quoted, so FTS5 operators typed by a user are plain words; a single
    word outside quotes is matched by prefix.
    """
    terms = []
    for match in _TERM.finditer(query):
        negated = bool(match.group(1) or match.group(3))
        phrase = match.group(2)
        term = phrase if phrase is not None else match.group(4).strip("\"'")
        words = re.findall(r"\w+", term)
        if words:
            quoted = '"' + " ".join(words) + '"'
            terms.append((quoted, negated, phrase is None and len(words) == 1))
    return terms


def fts5_query(query: str, as_written: Collection[str] = ()) -> str | None:
    """The FTS5 expression for a web-search-style query (None: nothing to search for).

    Every term is quoted, so FTS5 operators typed by a user are plain words. Single
    words are matched by prefix (``"word"*``), but those in ``as_written`` (quoted).
    """
    positive: list[str] = []
    negative: list[str] = []
    for quoted, negated, prefix in _fts5_terms(query):
        term = quoted + "*" if prefix and quoted not in as_written else quoted
        (negative if negated else positive).append(term)
    if not positive:
        return None
    expression = " AND ".join(positive)
    return expression + "".join(f" NOT {term}" for term in negative)


def _common_words(conn: Connection, query: str) -> set[str]:
    """The single words of ``query`` that are, as written, in ``SEARCH_CANDIDATES``
    stories or more: those are matched as written, not by prefix.

    FTS5 merges the matches of every longer word into one list before it can walk a
    prefix's matches (0.5-0.9 s for a word in each of a million stories, on every
    search); a word that common fills the candidates by itself, so its longer forms
    would add little. Each check walks at most ``SEARCH_CANDIDATES`` matches.
    """
    nth = (
        select(_FTS.c.rowid)
        .select_from(_FTS)
        .where(literal_column("articles_fts").op("MATCH")(bindparam("word")))
        .order_by(_FTS.c.rowid.desc())
        .limit(1)
        .offset(SEARCH_CANDIDATES - 1)
    )
    words = {quoted for quoted, _, prefix in _fts5_terms(query) if prefix}
    return {word for word in words if conn.execute(nth, {"word": word}).first() is not None}


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


def _candidates(
    conn: Connection, query: str, conditions: list[ColumnElement[bool]]
) -> Select[Any] | None:
    """``(id, rank)`` of the stories that match ``query`` and meet ``conditions``
    (PostgreSQL: and ``published_at``); None if the query has nothing to search for.

    SQLite: only the newest ``SEARCH_CANDIDATES`` matches; FTS5 walks them newest first
    by id and stops, and bm25 is computed for the walked rows alone: ranking every
    match of a word in every story of a year took 7.9 s.
    """
    if conn.dialect.name == "postgresql":
        # Every match: a bound by newest id made PostgreSQL either walk its primary key
        # backwards reading vectors, or fetch every match first; both were slower than
        # ranking them all at 200,000 stories (measured, benchmarks/bench_year.py).
        tsquery = func.websearch_to_tsquery("german", bindparam("q", query))
        vector = literal_column("articles.search_vector")
        rank = func.ts_rank_cd(vector, tsquery).label("rank")
        return select(Article.id, rank, Article.published_at).where(
            vector.op("@@")(tsquery), *conditions
        )
    expression = fts5_query(query, _common_words(conn, query))
    if expression is None:
        return None
    fts = literal_column("articles_fts")
    weights = (TITLE_WEIGHT, LEAD_WEIGHT, TEXT_WEIGHT, PARTS_WEIGHT)
    # bm25 is smaller for better matches; negated so 'rank' grows with relevance on both.
    rank = (-func.bm25(fts, *weights)).label("rank")
    matches = select(_FTS.c.rowid, rank).select_from(_FTS)
    if conditions:
        matches = matches.join(Article, Article.id == _FTS.c.rowid)
    return (
        matches.where(fts.op("MATCH")(bindparam("q", expression)), *conditions)
        .order_by(_FTS.c.rowid.desc())
        .limit(SEARCH_CANDIDATES)
    )


def _best_in_sql(
    conn: Connection, candidates: Select[Any], limit: int
) -> tuple[list[int], dict[int, float]]:
    """The best ``limit`` candidates (ties: newest first) and their ranks, PostgreSQL:
    sorted with their dates in the database (a word once in every body ties thousands
    of stories under ts_rank_cd; their dates are in the heap, not in the toasted text).
    """
    ranked = candidates.subquery()
    top = (
        select(ranked.c.id, ranked.c.rank)
        .order_by(ranked.c.rank.desc(), ranked.c.published_at.desc(), ranked.c.id)
        .limit(limit)
    )
    ranks = {story: rank for story, rank in conn.execute(top).all()}
    return list(ranks), ranks


def _best_in_python(
    conn: Connection, candidates: Select[Any], limit: int
) -> tuple[list[int], dict[int, float]]:
    """The same on SQLite: the best ``limit`` ranks and every story tied with the last
    of them, then the tie goes to the newest, the dates read for those alone (in SQLite
    a story's date sits after its text: joining every candidate for it read each from
    disk, 4.8 s for a word in 1 in 8 of a million stories). bm25 rarely ties.
    """
    ranks: dict[int, float] = dict(conn.execute(candidates).all())
    ordered = sorted(ranks.values(), reverse=True)
    cut = ordered[limit - 1] if len(ordered) > limit else None
    best = [story for story, rank in ranks.items() if cut is None or rank >= cut]
    dated = select(Article.id).where(Article.id.in_(best))
    newest_first = conn.execute(dated.order_by(Article.published_at.desc(), Article.id)).scalars()
    # A stable sort by rank keeps the newest-first order within a tie.
    return sorted(newest_first, key=lambda story: -ranks[story])[:limit], ranks


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
    columns (JSON decoded, datetimes UTC-aware) plus ``rank`` (higher is better). On
    SQLite a query that more than ``SEARCH_CANDIDATES`` stories match is ranked among
    the newest of them; one of more than ``MAX_QUERY_WORDS`` words raises
    ``SearchTooLong``.
    """
    words = len(re.findall(r"\w+", query))
    if words > MAX_QUERY_WORDS:
        raise SearchTooLong(f"a search takes at most {MAX_QUERY_WORDS} words, not {words}")
    conditions = _filters(engine, site, section, author, since, until, paywall)
    if limit <= 0:
        return []
    with engine.connect() as conn:
        candidates = _candidates(conn, query, conditions)
        if candidates is None:
            return []
        if conn.dialect.name == "postgresql":
            chosen, ranks = _best_in_sql(conn, candidates, limit)
        else:
            chosen, ranks = _best_in_python(conn, candidates, limit)
        place = {story: n for n, story in enumerate(chosen)}
        statement = select(*RESULT_COLUMNS).where(Article.id.in_(chosen))
        rows = [dict(row) for row in conn.execute(statement).mappings()]
    rows.sort(key=lambda row: place[row["id"]])
    return [{**row, "rank": ranks[row["id"]]} for row in rows]
