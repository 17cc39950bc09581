"""The SQL of a batch: what ``plan.make_plan`` needs to know, and carrying its plan out.

``load`` reads, in a few indexed queries per batch, every stored story the batch could
touch (by URL, by id, by SimHash band). ``carry_out`` writes a ``Plan`` with bulk
statements. The decisions are all in ``newscrawl.store.plan``; nothing here decides.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    String,
    Table,
    any_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    select,
    union,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import NullType

from newscrawl.store import dedup
from newscrawl.store.models import Article, ArticleUrl, ArticleVersion
from newscrawl.store.plan import (
    PARTIAL_FIELDS,
    VERSION_FIELDS,
    Known,
    NewStory,
    Plan,
    StoredStory,
    StoryUpdate,
    lookup_ids,
)
from newscrawl.store.validate import Prepared

CHUNK = 5000
"""Values per lookup query, to bound the size of one statement."""
NEAR_DUPLICATE_WINDOW = timedelta(days=7)
"""How far apart in publication two copies of one story may be (see _published_window)."""
STATE_COLUMNS = (
    Article.id, Article.url, Article.site, Article.article_id, Article.published_at,
    Article.modified_at, Article.fetched_at, Article.first_seen_at, Article.content_hash,
    Article.simhash, Article.canonical_declared_at,
)  # fmt: skip


def _in(conn: Connection, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """``column IN values`` with the values as ONE bound parameter.

    An expanding IN of thousands of values costs more to compile than to run; a JSON
    array (SQLite ``json_each``) or an array (PostgreSQL ``= ANY``) keeps the statement
    constant and still uses the column's index.
    """
    values = list(values)
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
    url_rows = []
    for column, values in ((ArticleUrl.url, urls), (ArticleUrl.article_id, ids)):
        for chunk in _chunks(values):
            url_rows += conn.execute(
                select(ArticleUrl.url, ArticleUrl.article_id, ArticleUrl.article).where(
                    _in(conn, column, chunk)
                )
            ).all()
    lookups = (
        (Article.id, {r.article for r in url_rows}),
        (Article.url, urls),
        (Article.article_id, ids),
    )
    for column, values in lookups:
        for chunk in _chunks(values):
            for row in conn.execute(select(*STATE_COLUMNS).where(_in(conn, column, chunk))):
                known.stories.setdefault(row.id, _stored(row))
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
        if p.simhash is not None
        and not any(url in known.by_url for url in p.url_sites())
        and not any(i in known.by_id for i in lookup_ids(p))
    ]  # fmt: skip
    for row in _near_candidates(conn, unknown, set(known.stories)):
        known.stories[row.id] = _stored(row)
    return known


def _near_candidates(conn: Connection, batch: list[Prepared], seen: set[int]) -> list[Any]:
    found: list[Any] = []
    for chunk in _date_groups(batch):
        band_sets: list[set[int]] = [set() for _ in range(dedup.BANDS)]
        for prep in chunk:
            for band_no, band in enumerate(dedup.bands(prep.simhash or 0)):
                band_sets[band_no].add(band)
        probe_sets = [{p for band in values for p in dedup.probes(band)} for values in band_sets]
        # One indexed IN per band column, so every branch is an index lookup.
        published = _published_window(chunk)
        selects = [
            select(*STATE_COLUMNS).where(
                _in(conn, getattr(Article, f"simhash_band{no}"), values), *published
            )
            for no, values in enumerate(probe_sets)
        ]
        for row in conn.execute(union(*selects)):
            if row.id not in seen:
                seen.add(row.id)
                found.append(row)
    return found


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


def _published_window(chunk: list[Prepared]) -> list[Any]:
    """Conditions that keep near-duplicate candidates to the chunk's weeks of news.

    Syndicated copies run within days of each other; without this bound every
    band probe matches ~1/65,536 of the whole archive, so the candidates (and
    the writer's time) grew with the store. Stories without a date still match.
    """
    dates = [prep.row.get("published_at") for prep in chunk]
    if not dates or any(date is None for date in dates):
        return []
    low, high = min(dates) - NEAR_DUPLICATE_WINDOW, max(dates) + NEAR_DUPLICATE_WINDOW
    # coalesce: an undated story matches too, and the condition is an expression no
    # index serves, so SQLite looks rows up by the band index and filters them by date
    # (with a plain BETWEEN it scanned the date index over the whole window instead).
    return [func.coalesce(Article.published_at, low).between(low, high)]


def _insert(conn: Connection, table: Table) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def insert_stories(conn: Connection, stories: list[NewStory]) -> set[int]:
    """Insert new stories and set their ids; returns the items of those that lost a race.

    A story not inserted conflicted with a row another writer stored first (same id
    under another URL): its items are planned again.

    SQLite: one multi-row ``INSERT ... RETURNING`` (SQLAlchemy's "insertmanyvalues"),
    which also matters for full-text indexing: FTS5 flushes its pending terms at every
    statement boundary inside a trigger, so row-by-row inserts cost ~3x the FTS work of
    one statement per page of rows (measured: 0.30 vs 0.11 ms/row). PostgreSQL: psycopg's
    pipelined executemany and one lookup of the ids, measured faster there than a
    multi-row RETURNING statement of ~9,000 parameters that the server re-plans per batch.
    """
    if not stories:
        return set()
    stmt = _insert(conn, Article.__table__).on_conflict_do_nothing()
    rows = [s.row for s in stories]
    if conn.dialect.name == "sqlite":
        returned = conn.execute(stmt.returning(Article.id, Article.url), rows)
        ids = {row.url: row.id for row in returned}
    else:
        conn.execute(stmt, rows)
        ids = {}
        for chunk in _chunks([story.row["url"] for story in stories]):
            query = select(Article.id, Article.url).where(_in(conn, Article.url, chunk))
            found = conn.execute(query)
            ids.update({row.url: row.id for row in found})
    lost: set[int] = set()
    for story in stories:
        story.id = ids.get(story.row["url"])
        if story.id is None:
            lost.update(story.items)
    return lost


def carry_out(conn: Connection, plan: Plan, lost: set[int]) -> None:
    """Versions, row updates and publication URLs of a plan whose new stories are inserted."""
    updates = plan.updates
    dropped = [u.id for u in updates if u.drop_versions]
    for chunk in _chunks(dropped):
        conn.execute(delete(ArticleVersion).where(ArticleVersion.article.in_(chunk)))
    kept = [u.id for u in updates if u.keep_content_as_version]
    fields = (*VERSION_FIELDS, "fetched_at")
    for chunk in _chunks(kept):
        conn.execute(
            insert(ArticleVersion).from_select(
                ["article", *fields],
                select(Article.id, *(getattr(Article, name) for name in fields))
                .where(Article.id.in_(chunk))
                .order_by(Article.id),
            )
        )
    _update_rows(conn, [u for u in updates if u.row is not None], "row")
    _update_rows(conn, [u for u in updates if u.partial is not None], "partial")
    new_versions = [{"article": s.id, **v} for s in plan.new if s.id is not None
                    for v in s.versions]  # fmt: skip
    if new_versions:
        conn.execute(insert(ArticleVersion), new_versions)
    _keep_versions(conn, [u for u in updates if u.versions])
    _upsert_urls(conn, plan, lost)


def _update_rows(conn: Connection, updates: list[StoryUpdate], kind: str) -> None:
    if not updates:
        return
    columns = list(getattr(updates[0], kind)) if kind == "row" else list(PARTIAL_FIELDS)
    stmt = update(Article).where(Article.id == bindparam("b_id"))
    stmt = stmt.values({name: bindparam(f"b_{name}") for name in columns})
    rows = [
        {"b_id": u.id, **{f"b_{name}": getattr(u, kind)[name] for name in columns}} for u in updates
    ]
    conn.execute(stmt, rows)


def _keep_versions(conn: Connection, updates: list[StoryUpdate]) -> None:
    """Each content once per story, with its earliest fetch: insert what is missing,
    move ``fetched_at`` back where an earlier fetch of a kept content arrived."""
    if not updates:
        return
    stored: dict[tuple[int, Any, str], tuple[int, Any]] = {}
    for chunk in _chunks([u.id for u in updates]):
        query = select(
            ArticleVersion.id, ArticleVersion.article, ArticleVersion.modified_at,
            ArticleVersion.content_hash, ArticleVersion.fetched_at,
        ).where(ArticleVersion.article.in_(chunk))  # fmt: skip
        for row in conn.execute(query):
            stored[(row.article, row.modified_at, row.content_hash)] = (row.id, row.fetched_at)
    missing, earlier = [], []
    for u in updates:
        for version in u.versions:
            found = stored.get((u.id, version["modified_at"], version["content_hash"]))
            if found is None:
                missing.append({"article": u.id, **version})
            elif version["fetched_at"] < found[1]:
                earlier.append({"b_id": found[0], "b_fetched_at": version["fetched_at"]})
    if missing:
        conn.execute(insert(ArticleVersion), missing)
    if earlier:
        conn.execute(
            update(ArticleVersion)
            .where(ArticleVersion.id == bindparam("b_id"))
            .values(fetched_at=bindparam("b_fetched_at")),
            earlier,
        )


def _upsert_urls(conn: Connection, plan: Plan, lost: set[int]) -> None:
    rows = []
    for url in plan.urls:
        story = url.story
        article = story if isinstance(story, int) else story.id
        if article is None or (isinstance(story, NewStory) and lost.intersection(story.items)):
            continue
        rows.append({
            "url": url.url, "site": url.site, "article_id": url.article_id, "article": article,
            "first_seen_at": url.first_seen_at, "last_seen_at": url.last_seen_at,
        })  # fmt: skip
    if not rows:
        return
    stmt = _insert(conn, ArticleUrl.__table__)
    postgres = conn.dialect.name == "postgresql"
    latest, earliest = (func.greatest, func.least) if postgres else (func.max, func.min)
    stmt = stmt.on_conflict_do_update(
        index_elements=[ArticleUrl.url],
        set_={
            "last_seen_at": latest(ArticleUrl.last_seen_at, stmt.excluded.last_seen_at),
            "first_seen_at": earliest(ArticleUrl.first_seen_at, stmt.excluded.first_seen_at),
        },
    )
    conn.execute(stmt, rows)
