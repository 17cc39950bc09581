"""What a batch plan needs to know: the stored stories a batch may touch.

``load`` reads, in a few indexed queries per batch, every stored story the batch could
belong to (by URL, by id, by SimHash band) as ``plan.Known``. No decisions here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    String,
    any_,
    bindparam,
    cast,
    func,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import NullType

from newscrawl.store import dedup
from newscrawl.store.dedup import NEAR_DUPLICATE_WINDOW
from newscrawl.store.linking import BandIndex, add_to_band_index, lookup_ids, near_nodes
from newscrawl.store.models import Article, ArticleUrl
from newscrawl.store.plan import Known, StoredStory
from newscrawl.store.validate import Prepared

CHUNK = 5000
"""Values per lookup query, to bound the size of one statement."""
STATE_COLUMNS = (
    Article.id, Article.url, Article.site, Article.article_id, Article.published_at,
    Article.modified_at, Article.fetched_at, Article.first_seen_at, Article.content_hash,
    Article.simhash, Article.canonical_declared_at,
)  # fmt: skip


def one_of(conn: Connection, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """``column IN values`` with the values as ONE bound parameter.

    An expanding IN of thousands of values costs more to compile than to run; a JSON
    array (SQLite ``json_each``) or an array (PostgreSQL ``= ANY``) keeps the statement
    constant and still uses the column's index. One value is a plain ``=``: a redirect's
    lookup is one URL, and unpacking an array for it cost half again as much.
    """
    values = list(values)
    if len(values) == 1:
        return column == values[0]
    if conn.dialect.name == "postgresql":
        if isinstance(column.type, Integer):
            # Sent in the array's text form: psycopg dumps a list element by element in
            # Python, which for the ~13,600 SimHash band probes of a batch of 200 was a
            # sixth of the writer's time; the server parses the string in C.
            # Untyped, so psycopg sends it as 'unknown' and the server reads it as the array
            # once (a text parameter cast to an array is re-read for every row).
            literal = "{" + ",".join(map(str, values)) + "}"
            typed = cast(bindparam(None, literal, type_=NullType()), ARRAY(column.type))
            return column == any_(typed)
        return column == any_(bindparam(None, values, type_=ARRAY(String())))
    each = func.json_each(bindparam(None, json.dumps(values), type_=String())).table_valued("value")
    return column.in_(select(each.c.value))


def _chunks(values: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _stored(row: Any) -> StoredStory:
    simhash = dedup.from_signed(row.simhash) if row.simhash is not None else None
    return StoredStory(
        row.id, row.url, row.site, row.article_id, row.published_at, row.modified_at,
        row.fetched_at, row.first_seen_at, row.content_hash, simhash, row.canonical_declared_at,
    )  # fmt: skip


def load(conn: Connection, batch: list[Prepared]) -> Known:
    """Every stored story that an item of ``batch`` may belong to."""
    known = Known()
    urls = {url for prep in batch for url in prep.url_sites()}
    ids = {i for prep in batch for i in lookup_ids(prep)}
    # Publications first (a stored story's URLs and ids are all there); the articles
    # table is asked only for what they did not answer (rows stored before 0003 had no
    # publication rows). Each row is read once: re-crawls are most of a crawl's items.
    url_rows = _publications(conn, ArticleUrl.url, urls)
    found_ids = {r.article_id for r in url_rows}
    url_rows += _publications(conn, ArticleUrl.article_id, ids - found_ids)
    found_urls = {r.url for r in url_rows}
    found_ids |= {r.article_id for r in url_rows}
    lookups = (
        (Article.id, {r.article for r in url_rows}),
        (Article.url, urls - found_urls),
        (Article.article_id, ids - found_ids),
    )
    for column, values in lookups:
        for chunk in _chunks(values):
            for row in conn.execute(select(*STATE_COLUMNS).where(one_of(conn, column, chunk))):
                if row.id not in known.stories:
                    known.stories[row.id] = _stored(row)
    for story in known.stories.values():
        known.by_url[story.url] = story.id
        if story.article_id:
            known.by_id[story.article_id] = story.id
    for r in url_rows:
        known.by_url.setdefault(r.url, r.article)
        if r.article_id:
            known.by_id.setdefault(r.article_id, r.article)
    unknown = [
        p for p in batch
        if not any(url in known.by_url for url in p.url_sites())
        and not any(i in known.by_id for i in lookup_ids(p))
        and p.simhash is not None  # last: a known item never needs its SimHash computed
    ]  # fmt: skip
    for row in _near_candidates(conn, unknown, set(known.stories)):
        known.stories[row.id] = _stored(row)
    return known


def _publications(conn: Connection, column: Any, values: set[str]) -> list[Any]:
    rows: list[Any] = []
    for chunk in _chunks(values):
        query = select(ArticleUrl.url, ArticleUrl.article_id, ArticleUrl.article)
        rows += conn.execute(query.where(one_of(conn, column, chunk))).all()
    return rows


def _near_candidates(conn: Connection, batch: list[Prepared], seen: set[int]) -> list[Any]:
    """Rows of the stored stories (not in ``seen``) within ``MAX_DISTANCE`` of an item of
    ``batch`` whose band matches one of its probes, published in its weeks or undated.

    Two steps. The band indexes hold the SimHash (migration 0009), so the probes read
    ``(id, simhash)`` from the index alone, and the exact distance is checked here; only
    the stories that pass (few: real copies) are read from ``articles``. Reading every
    band match's row was most of a new story's write time in a store of a million
    (~30 matches an item, each a random page of a 7 GB table) and, with every match
    carried to the plan, stories no item is near were read for nothing. The plan is
    the same: a stored story no item is within ``MAX_DISTANCE`` of joins no component.
    """
    matched: dict[int, int] = {}
    for chunk in _date_groups(batch):
        probe_sets: list[set[int]] = [set() for _ in range(dedup.BANDS)]
        for prep in chunk:
            for band_no, band in enumerate(dedup.bands(prep.simhash or 0)):
                probe_sets[band_no].update(dedup.probes(band))
        for row in conn.execute(_band_matches(conn, chunk, probe_sets)):
            if row.id not in seen:
                matched[row.id] = dedup.from_signed(row.simhash)
    near = _within_distance(batch, matched)
    seen |= near
    rows: list[Any] = []
    for ids in _chunks(sorted(near)):
        rows += conn.execute(select(*STATE_COLUMNS).where(one_of(conn, Article.id, ids))).all()
    return rows


def _within_distance(batch: list[Prepared], matched: dict[int, int]) -> set[int]:
    """The ids of ``matched`` (id → SimHash) within ``MAX_DISTANCE`` of an item.

    As ``linking`` finds them, with its band index: the matches indexed by their four
    bands, each item's probes looked up in it (a dict lookup a probe).
    """
    if not matched:
        return set()
    index: BandIndex = {}
    for story, simhash in matched.items():
        add_to_band_index(index, story, simhash, None)  # dates: linking checks them
    near: set[int] = set()
    for prep in batch:
        near.update(near_nodes(index, prep.simhash or 0, None))
    return near


def _band_matches(conn: Connection, chunk: list[Prepared], probe_sets: list[set[int]]) -> Any:
    """``(id, simhash)`` of the stories whose band ``n`` is in ``probe_sets[n]``, published
    in the chunk's window (see ``_published_window``) or undated: one branch per band."""
    window = _published_window(chunk)
    if conn.dialect.name == "sqlite":
        return _sqlite_band_matches(probe_sets, window)
    dated = [] if window is None else [
        or_(Article.published_at.between(*window), Article.published_at.is_(None))
    ]  # fmt: skip
    # PostgreSQL reads each band's (band, published_at) index for both (a BitmapOr).
    return union_all(*(
        select(Article.id, Article.simhash).where(
            one_of(conn, getattr(Article, f"simhash_band{no}"), values), *dated
        )
        for no, values in enumerate(probe_sets)
    ))  # fmt: skip


def _sqlite_band_matches(probe_sets: list[set[int]], window: tuple[Any, Any] | None) -> Any:
    """The SQLite statement of ``_band_matches``, written out for its join order and index.

    Each band's probes (sorted, for locality in the index) drive the join (``CROSS JOIN``
    fixes that order) and each probe is one seek into the band's (band, published_at,
    simhash) index (``INDEXED BY``; SQLAlchemy's SQLite compiler drops ``with_hint``, so
    the statement is text). The date is checked in the index entries of that band value
    (~15 in a store of a million, one leaf page), dated and undated alike: one seek a
    probe, no table row. Two branches a band (the window as the
    index's second key, then ``IS NULL``) sent every probe twice and cost a fifth of a
    new story's writer CPU in an empty store (0.36 against 0.30 ms).
    """
    dated = "published_at BETWEEN :low AND :high OR published_at IS NULL" if window else "1"
    statement = text(" UNION ALL ".join(
        f"SELECT articles.id, articles.simhash FROM json_each(:probes{no}) AS probe "
        f"CROSS JOIN articles INDEXED BY ix_articles_simhash_band{no}_published "
        f"ON articles.simhash_band{no} = probe.value WHERE {dated}"
        for no in range(dedup.BANDS)
    ))  # fmt: skip
    params = [
        bindparam(f"probes{no}", json.dumps(sorted(values)), type_=String())
        for no, values in enumerate(probe_sets)
    ]
    if window:
        params += [bindparam(name, value, type_=Article.published_at.type)
                   for name, value in zip(("low", "high"), window, strict=True)]  # fmt: skip
    return statement.bindparams(*params).columns(Article.id, Article.simhash)


def _date_groups(batch: list[Prepared]) -> Iterator[list[Prepared]]:
    """The batch in groups of items published within ``NEAR_DUPLICATE_WINDOW`` of the
    group's first one (undated items together), each small enough for one query.

    A crawl's batch mixes portals and sitemaps, so its items' dates span months; one
    window around all of them bounded nothing, and at 20,000 stored stories the
    candidate lookup was a third of the writer's time.
    """
    size = CHUNK // (dedup.BAND_BITS + 1)
    undated = [prep for prep in batch if prep.row.get("published_at") is None]
    yield from _chunks(undated, size)
    dated = sorted(
        (prep for prep in batch if prep.row.get("published_at") is not None),
        key=lambda prep: prep.row["published_at"],
    )
    group: list[Prepared] = []
    for prep in dated:
        if group and (
            len(group) >= size
            or prep.row["published_at"] - group[0].row["published_at"] > NEAR_DUPLICATE_WINDOW
        ):
            yield group
            group = []
        group.append(prep)
    if group:
        yield group


def _published_window(chunk: list[Prepared]) -> tuple[Any, Any] | None:
    """The dates of near-duplicate candidates of the chunk's stories: ``NEAR_DUPLICATE_WINDOW``
    around them (stories without a date match too); None for a chunk of undated items.

    Syndicated copies run within days of each other; without this bound every
    band probe matches ~1/65,536 of the whole archive, so the candidates (and
    the writer's time) grew with the store.
    """
    dates = [prep.row.get("published_at") for prep in chunk]
    if not dates or any(date is None for date in dates):
        return None
    return min(dates) - NEAR_DUPLICATE_WINDOW, max(dates) + NEAR_DUPLICATE_WINDOW
