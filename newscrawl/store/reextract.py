"""Re-extraction's SQL side: a story's extracted columns replaced in place, nothing else.

``python -m newscrawl.store reextract`` (``newscrawl/archive/reextract.py``) runs the
current extractor over archived pages of stored stories. What it may change is what an
extraction produces (``EXTRACTED``, plus the columns derived from them: ``DERIVED``);
never a story's identity (``url``, ``site``, ``article_id``), its fetch history
(``fetched_at``, ``first_seen_at``, ``canonical_declared_at``), its publications or its
``article_versions``: the publisher's changes are history, a better extractor is not.
``content_hash`` is recomputed with the text, so that the next live fetch of an
unchanged page compares equal and adds no version.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Engine, select, text, update

from newscrawl.items import ARTICLE_FIELDS
from newscrawl.store.models import Article, ArticleUrl
from newscrawl.store.search import index_pending

EXTRACTED = (*(name for name in ARTICLE_FIELDS if name != "simhash"), "links")
"""Columns the extraction fills (``items.ARTICLE_FIELDS`` but the SimHash, and ``links``): the
ones the report counts."""
DERIVED = (
    "content_hash", "parts_text", "simhash",
    "simhash_band0", "simhash_band1", "simhash_band2", "simhash_band3",
)  # fmt: skip
"""Columns computed from ``EXTRACTED`` ones: written along, not counted."""


class Target(NamedTuple):
    """A stored story to re-extract: its row's URL and site, and when its content was fetched."""

    story: int
    url: str
    site: str
    fetched_at: datetime


@dataclass
class Changes:
    """What one or more ``apply`` calls did."""

    examined: int = 0
    changed: int = 0
    fields: Counter[str] = field(default_factory=Counter)

    def add(self, other: Changes) -> None:
        self.examined += other.examined
        self.changed += other.changed
        self.fields.update(other.fields)


def targets(
    engine: Engine, site: str | None = None, since: datetime | None = None
) -> dict[str, Target]:
    """Every publication URL (canonical and ``article_urls``) of the selected stories →
    its story. ``site``: stories whose row is on that portal; ``since``: stories whose
    stored content was fetched at or after it."""
    stories = select(Article.id, Article.url, Article.site, Article.fetched_at)
    if site is not None:
        stories = stories.where(Article.site == site)
    if since is not None:
        stories = stories.where(Article.fetched_at >= since)
    found: dict[str, Target] = {}
    with engine.connect() as conn:
        for row in conn.execute(stories):
            found[row.url] = Target(row.id, row.url, row.site, row.fetched_at)
        by_id = {target.story: target for target in found.values()}
        publications = select(ArticleUrl.url, ArticleUrl.article)
        for url, story in conn.execute(publications):
            if story in by_id:
                found.setdefault(url, by_id[story])
    return found


def changed_fields(stored: dict[str, Any], fresh: dict[str, Any]) -> list[str]:
    """The ``EXTRACTED`` columns whose fresh value differs from the stored one."""
    return [name for name in EXTRACTED if stored.get(name) != fresh.get(name)]


def apply(engine: Engine, rows: dict[int, dict[str, Any]]) -> Changes:
    """Write the freshly extracted ``rows`` (story id → ``articles`` row as the store's
    ``prepare`` builds it) over the stored ones, in one transaction; only rows with a
    changed ``EXTRACTED`` column are written. PostgreSQL: their search vectors are
    rebuilt after the commit (SQLite's FTS5 triggers follow the update by themselves)."""
    changes = Changes(examined=len(rows))
    if not rows:
        return changes
    columns = [Article.__table__.c[name] for name in ("id", *EXTRACTED)]
    written: list[int] = []
    with engine.begin() as conn:
        stored = conn.execute(select(*columns).where(Article.id.in_(list(rows)))).mappings()
        for current in list(stored):
            fresh = rows[current["id"]]
            names = changed_fields(dict(current), fresh)
            if not names:
                continue
            changes.changed += 1
            changes.fields.update(names)
            values = {name: fresh.get(name) for name in (*EXTRACTED, *DERIVED)}
            conn.execute(update(Article).where(Article.id == current["id"]).values(**values))
            written.append(current["id"])
        if written and conn.dialect.name == "postgresql":
            conn.execute(
                text("UPDATE articles SET search_vector = NULL WHERE id = ANY(:ids)"),
                {"ids": written},
            )
    index_pending(engine, written)
    return changes
