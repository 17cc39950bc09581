"""The batch plan behind ``write_batch``: which story each item belongs to, then the writes.

``load`` reads, in a few indexed queries per batch, every stored story the batch could
touch (by URL, by id, by SimHash band). ``Plan`` decides item by item in memory, so items
of the same story inside one batch see each other. ``insert_stories`` and ``apply`` then
write everything with bulk statements.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
from newscrawl.store.validate import Prepared

CHUNK = 5000
"""Values per lookup query, to bound the size of one statement."""
NEAR_DUPLICATE_WINDOW = timedelta(days=7)
"""How far apart in publication two copies of one story may be (see _published_window)."""
VERSION_FIELDS = ("title", "lead", "text", "modified_at", "content_hash", "fetched_at")
STATE_COLUMNS = (
    Article.id, Article.url, Article.article_id, Article.content_hash, Article.modified_at,
    Article.simhash,
)  # fmt: skip


@dataclass(eq=False)
class Story:
    """A story as the batch sees it: stored (``id`` set) or about to be inserted."""

    id: int | None
    url: str
    article_id: str | None
    content_hash: str
    modified_at: datetime | None
    simhash: int | None
    is_new: bool = False
    row: dict[str, Any] | None = None
    """New story: its full row. Stored story: the row to update it with, if it changed."""
    site: str | None = None
    copy_version: bool = False
    versions: list[dict[str, Any]] = field(default_factory=list)
    url_changed: bool = False
    items: list[int] = field(default_factory=list)


@dataclass
class Known:
    """Stored stories reachable from a batch, by publication URL, by id, by SimHash band."""

    by_url: dict[str, Story] = field(default_factory=dict)
    by_id: dict[str, Story] = field(default_factory=dict)
    by_band: dict[tuple[int, int], list[Story]] = field(default_factory=dict)

    def add_bands(self, story: Story) -> None:
        if story.simhash is not None:
            for band_no, band in enumerate(dedup.bands(story.simhash)):
                self.by_band.setdefault((band_no, band), []).append(story)


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


def _chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    return _chunks_of(values, CHUNK)


def _chunks_of(values: Iterable[Any], size: int) -> Iterator[list[Any]]:
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _story(row: Any) -> Story:
    simhash = dedup.from_signed(row.simhash) if row.simhash is not None else None
    return Story(row.id, row.url, row.article_id, row.content_hash, row.modified_at, simhash)


def load(conn: Connection, batch: list[Prepared]) -> Known:
    """Every stored story that an item of ``batch`` may belong to."""
    known = Known()
    urls = {url for prep in batch for url in prep.url_sites()}
    ids = {prep.article_id for prep in batch if prep.article_id}
    url_rows = []
    for chunk in _chunks(urls):
        url_rows += conn.execute(
            select(ArticleUrl.url, ArticleUrl.article_id, ArticleUrl.article).where(
                _in(conn, ArticleUrl.url, chunk)
            )
        ).all()
    for chunk in _chunks(ids):
        url_rows += conn.execute(
            select(ArticleUrl.url, ArticleUrl.article_id, ArticleUrl.article).where(
                _in(conn, ArticleUrl.article_id, chunk)
            )
        ).all()
    stories: dict[int, Story] = {}
    lookups = (
        (Article.id, {r.article for r in url_rows}),
        (Article.url, urls),
        (Article.article_id, ids),
    )
    for column, values in lookups:
        for chunk in _chunks(values):
            for row in conn.execute(select(*STATE_COLUMNS).where(_in(conn, column, chunk))):
                stories.setdefault(row.id, _story(row))
    for story in stories.values():
        known.by_url[story.url] = story
        if story.article_id:
            known.by_id[story.article_id] = story
    for r in url_rows:
        known.by_url.setdefault(r.url, stories[r.article])
        if r.article_id:
            known.by_id.setdefault(r.article_id, stories[r.article])
    unknown = [p for p in batch if not _identify(known, p) and p.simhash is not None]
    for story in _near_candidates(conn, unknown, stories):
        known.add_bands(story)
    return known


def _near_candidates(
    conn: Connection, batch: list[Prepared], seen: dict[int, Story]
) -> list[Story]:
    found: list[Story] = []
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
                seen[row.id] = _story(row)
                found.append(seen[row.id])
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
    yield from _chunks_of(undated, size)
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


def _identify(known: Known, prep: Prepared) -> Story | None:
    for url in prep.url_sites():
        if url in known.by_url:
            return known.by_url[url]
    return known.by_id.get(prep.article_id) if prep.article_id else None


def _nearest(known: Known, simhash: int) -> Story | None:
    # Runs for every new item against the batch's and the store's candidates: most of
    # the 68 probes miss, so the loop only builds keys and checks them.
    best, best_distance = None, dedup.MAX_DISTANCE + 1
    by_band = known.by_band
    for band_no, band in enumerate(dedup.bands(simhash)):
        for probe in dedup.probes(band):
            stories = by_band.get((band_no, probe))
            for story in stories or ():
                if story.simhash is None:
                    continue
                d = dedup.distance(simhash, story.simhash)
                if d < best_distance:
                    best, best_distance = story, d
    return best


def _version_of(story: Story) -> dict[str, Any]:
    assert story.row is not None
    return {name: story.row[name] for name in VERSION_FIELDS}


class Plan:
    """Item-by-item decisions for one batch; ``statuses`` maps item index → (status, story)."""

    def __init__(self, known: Known) -> None:
        self.known = known
        self.statuses: dict[int, tuple[str, Story]] = {}
        self.stories: list[Story] = []
        self.url_rows: dict[str, dict[str, Any]] = {}

    def new_stories(self) -> list[Story]:
        return [story for story in self.stories if story.is_new]

    def add(self, index: int, prep: Prepared) -> None:
        story = _identify(self.known, prep)
        if story is None and prep.simhash is not None:
            story = _nearest(self.known, prep.simhash)
        if story is None:
            status, story = "new", self._create(prep)
        elif prep.url == story.url or (prep.article_id and prep.article_id == story.article_id):
            status = self._same_story(story, prep)
        else:
            # A publication under another id (syndication) or only a known URL:
            # recorded, but it never rewrites the story's content.
            status = "duplicate" if self._has_new_url(prep) else "unchanged"
        if story not in self.stories:
            self.stories.append(story)
        story.items.append(index)
        self.statuses[index] = (status, story)
        self._register(story, prep)

    def _create(self, prep: Prepared) -> Story:
        story = Story(
            None, prep.url, prep.article_id, prep.content_hash, prep.modified_at, prep.simhash,
            is_new=True, row=prep.hashed_row(), site=prep.site,
        )  # fmt: skip
        self.known.add_bands(story)
        return story

    def _same_story(self, story: Story, prep: Prepared) -> str:
        stale = prep.modified_at and story.modified_at and prep.modified_at < story.modified_at
        changed = prep.content_hash != story.content_hash or (
            prep.modified_at is not None and prep.modified_at != story.modified_at
        )
        moved = (
            prep.url != story.url
            and prep.url != prep.fetched_url
            and self.known.by_url.get(prep.url) in (None, story)
        )
        new_url = self._has_new_url(prep)
        if changed and not stale:
            self._update(story, prep)
        if moved:
            story.url, story.site, story.url_changed = prep.url, prep.site, True
            if story.row is not None:
                story.row.update(url=prep.url, site=prep.site)
        if (changed and not stale) or moved:
            return "updated"
        return "duplicate" if new_url else "unchanged"

    def _update(self, story: Story, prep: Prepared) -> None:
        if story.is_new:  # both contents arrived in this batch: only the later is stored
            first_seen = story.row["first_seen_at"] if story.row else prep.fetched_at
        elif story.row is None:
            story.copy_version, first_seen = True, None
        else:
            story.versions.append(_version_of(story))
            first_seen = None
        row = {k: v for k, v in prep.hashed_row().items() if k not in ("url", "site", "article_id")}
        row.update(url=story.url, site=story.site or prep.site, article_id=story.article_id)
        if story.article_id is None and prep.article_id not in self.known.by_id:
            row["article_id"] = story.article_id = prep.article_id
        if first_seen is not None:
            row["first_seen_at"] = first_seen
        else:
            row.pop("first_seen_at")
        story.row = row
        story.content_hash, story.modified_at = prep.content_hash, prep.modified_at
        story.simhash = prep.simhash

    def _has_new_url(self, prep: Prepared) -> bool:
        return any(url not in self.known.by_url for url in prep.url_sites())

    def _register(self, story: Story, prep: Prepared) -> None:
        for url, site in prep.url_sites().items():
            self.known.by_url.setdefault(url, story)
            row = self.url_rows.get(url)
            if row is None:
                self.url_rows[url] = {
                    "url": url, "site": site, "article_id": prep.article_id, "story": story,
                    "first_seen_at": prep.fetched_at, "last_seen_at": prep.fetched_at,
                }  # fmt: skip
            else:
                row["last_seen_at"] = max(row["last_seen_at"], prep.fetched_at)
                row["first_seen_at"] = min(row["first_seen_at"], prep.fetched_at)
        if prep.article_id:
            self.known.by_id.setdefault(prep.article_id, story)


def _insert(conn: Connection, table: Table) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def insert_stories(conn: Connection, stories: list[Story]) -> dict[str, int]:
    """Insert new stories; returns ``url → id`` of those now stored under their URL.

    A story missing from the result conflicted with a row another writer stored first
    (same id under another URL) and is resolved again.

    SQLite: one multi-row ``INSERT ... RETURNING`` (SQLAlchemy's "insertmanyvalues"),
    which also matters for full-text indexing: FTS5 flushes its pending terms at every
    statement boundary inside a trigger, so row-by-row inserts cost ~3x the FTS work of
    one statement per page of rows (measured: 0.30 vs 0.11 ms/row). PostgreSQL: psycopg's
    pipelined executemany and one lookup of the ids, measured faster there than a
    multi-row RETURNING statement of ~9,000 parameters that the server re-plans per batch.
    """
    if not stories:
        return {}
    stmt = _insert(conn, Article.__table__).on_conflict_do_nothing()
    rows = [s.row for s in stories]
    if conn.dialect.name == "sqlite":
        returned = conn.execute(stmt.returning(Article.id, Article.url), rows)
        return {row.url: row.id for row in returned}
    conn.execute(stmt, rows)
    ids = {}
    for chunk in _chunks([story.url for story in stories]):
        found = conn.execute(select(Article.id, Article.url).where(_in(conn, Article.url, chunk)))
        ids.update({row.url: row.id for row in found})
    return ids


def apply(conn: Connection, plan: Plan, skip: set[int]) -> None:
    """Versions, updates and publication URLs of a planned batch (new stories inserted)."""
    stories = [s for s in plan.stories if s.id is not None and not skip.intersection(s.items)]
    copies = [s.id for s in stories if s.copy_version]
    for chunk in _chunks(copies):
        fields = [getattr(Article, name) for name in VERSION_FIELDS]
        conn.execute(
            insert(ArticleVersion).from_select(
                ["article", *VERSION_FIELDS],
                select(Article.id, *fields).where(Article.id.in_(chunk)).order_by(Article.id),
            )
        )
    versions = [{"article": s.id, **v} for s in stories if not s.is_new for v in s.versions]
    if versions:
        conn.execute(insert(ArticleVersion), versions)
    _update_rows(conn, [s for s in stories if not s.is_new and s.row is not None])
    # A content update already carries the new URL; these only moved their canonical.
    moved = [
        {"b_id": s.id, "url": s.url, "site": s.site}
        for s in stories
        if s.url_changed and s.row is None and not s.is_new
    ]
    if moved:
        conn.execute(
            update(Article)
            .where(Article.id == bindparam("b_id"))
            .values(url=bindparam("url"), site=bindparam("site")),
            moved,
        )
    _upsert_urls(conn, plan, skip)


def _update_rows(conn: Connection, stories: list[Story]) -> None:
    if not stories:
        return
    columns = [name for name in stories[0].row or {} if name != "id"]
    stmt = update(Article).where(Article.id == bindparam("b_id"))
    stmt = stmt.values({name: bindparam(f"b_{name}") for name in columns})
    rows = [{"b_id": s.id, **{f"b_{k}": v for k, v in (s.row or {}).items()}} for s in stories]
    conn.execute(stmt, rows)


def _upsert_urls(conn: Connection, plan: Plan, skip: set[int]) -> None:
    rows = [
        {**{k: v for k, v in row.items() if k != "story"}, "article": row["story"].id}
        for row in plan.url_rows.values()
        if row["story"].id is not None and not skip.intersection(row["story"].items)
    ]
    if not rows:
        return
    stmt = _insert(conn, ArticleUrl.__table__)
    latest = func.greatest if conn.dialect.name == "postgresql" else func.max
    stmt = stmt.on_conflict_do_update(
        index_elements=[ArticleUrl.url],
        set_={"last_seen_at": latest(ArticleUrl.last_seen_at, stmt.excluded.last_seen_at)},
    )
    conn.execute(stmt, sorted(rows, key=lambda row: row["url"]))
