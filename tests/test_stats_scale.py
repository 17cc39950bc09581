"""``stats`` as it counts at scale (migration 0008): sections and authors per distinct
list, stories on several portals by portal-count tiers, with exact rows on both
databases, filtered and not, and both ways of taking the last tier needed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from newscrawl.store import syndicated as syndicated_module
from newscrawl.store.models import Article, ArticleUrl
from newscrawl.store.query import Filters
from newscrawl.store.stats import stats

SEEN = datetime(2026, 1, 10, tzinfo=UTC)


def day(n: int) -> datetime:
    return datetime(2026, 1, n, 12, tzinfo=UTC)


# (id, site, published_at, authors, section, portals of its publication URLs)
STORIES: list[tuple[int, str, datetime | None, list[str], list[str], list[str]]] = [
    (1, "fr.de", day(1), ["A", "B"], ["Politik", "Ausland"], ["fr.de", "merkur.de", "tz.de"]),
    (2, "fr.de", day(5), ["A"], ["Politik"], ["fr.de", "merkur.de"]),
    (3, "merkur.de", day(5), ["B", "B"], ["Sport"], ["merkur.de", "merkur.de", "tz.de"]),
    (4, "tz.de", None, [], [], ["tz.de", "fr.de"]),
    (5, "fr.de", day(9), ["C"], ["Politik", "Inland"], ["fr.de", "fr.de"]),
    (6, "merkur.de", day(8), ["A", "C"], ["Sport", "Fußball"], ["merkur.de", "fr.de"]),
]


def fill(engine: Engine) -> None:
    """The stories above, written as rows (what stats reads, nothing it does not)."""
    articles: list[dict[str, Any]] = []
    urls: list[dict[str, Any]] = []
    for story, site, published, authors, section, portals in STORIES:
        articles.append({
            "id": story, "url": f"https://www.{site}/s-{story}.html", "site": site,
            "article_id": str(93_000_000 + story), "title": f"Meldung {story}",
            "authors": authors, "section": section, "published_at": published,
            "first_seen_at": SEEN, "fetched_at": SEEN, "content_hash": f"{story:064d}",
        })  # fmt: skip
        for n, portal in enumerate(portals):
            urls.append({
                "url": f"https://www.{portal}/s-{story}-{n}.html", "site": portal,
                "article": story, "first_seen_at": SEEN, "last_seen_at": SEEN,
            })  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(Article), articles)
        conn.execute(insert(ArticleUrl), urls)


def rows(engine: Engine, table: str, filters: Filters, limit: int) -> list[tuple[Any, ...]]:
    result = stats(engine, filters, limit, [table])[table]
    wanted = {"sections": ("section", "articles"), "authors": ("author", "articles"),
              "syndicated": ("id", "portals", "sites")}[table]  # fmt: skip
    return [tuple(row[name] for name in wanted) for row in result.rows]


THREE = ("fr.de, merkur.de, tz.de",)
CASES: list[tuple[str, Filters, int, list[tuple[Any, ...]]]] = [
    ("sections", Filters(), 10, [("Politik", 3), ("Sport", 2), (None, 1)]),
    ("sections", Filters(site="merkur.de"), 10, [("Sport", 2)]),
    ("sections", Filters(since=day(5)), 1, [("Politik", 2)]),
    # B twice in one story's list counts that story once.
    ("authors", Filters(), 10, [("A", 3), ("B", 2), ("C", 2)]),
    ("authors", Filters(until=day(5)), 10, [("A", 2), ("B", 2)]),
    ("authors", Filters(site="fr.de"), 2, [("A", 2), ("B", 1)]),
    # Most portals first, then newest first (undated last), then by id.
    ("syndicated", Filters(), 10,
     [(1, 3, *THREE), (6, 2, "fr.de, merkur.de"), (2, 2, "fr.de, merkur.de"),
      (3, 2, "merkur.de, tz.de"), (4, 2, "fr.de, tz.de")]),
    ("syndicated", Filters(), 3, [(1, 3, *THREE), (6, 2, "fr.de, merkur.de"),
                                 (2, 2, "fr.de, merkur.de")]),
    ("syndicated", Filters(), 1, [(1, 3, *THREE)]),
    ("syndicated", Filters(site="fr.de"), 10, [(1, 3, *THREE), (2, 2, "fr.de, merkur.de")]),
    ("syndicated", Filters(since=day(5)), 2,
     [(6, 2, "fr.de, merkur.de"), (2, 2, "fr.de, merkur.de")]),
    ("syndicated", Filters(since=day(9)), 10, []),
]  # fmt: skip


@pytest.mark.parametrize("walk_from", [0, 100], ids=["walk newest first", "sort the tier"])
def test_stats_count_exactly_both_ways(
    db_engine: Engine, monkeypatch: pytest.MonkeyPatch, walk_from: int
) -> None:
    monkeypatch.setattr(syndicated_module, "WALK_FROM_TIER", walk_from)
    fill(db_engine)
    got = [(table, f, limit, rows(db_engine, table, f, limit)) for table, f, limit, _ in CASES]
    assert got == CASES
