"""Revisits (newscrawl/revisit.py): the choice as tables, the store's candidates on both
databases and their query plans, the middleware's switch, the mock's quiet edit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler
from sqlalchemy import Engine, select, text
from sqlalchemy.dialects import postgresql, sqlite

from newscrawl import settings as project_settings
from newscrawl.revisit import RevisitMiddleware, choose_revisits, revisit_cutoff
from newscrawl.spiders.ippen import IppenSpider
from newscrawl.store import Store, write_batch
from newscrawl.store.models import Article
from newscrawl.store.revisit import _COLUMNS, RevisitCandidate
from tests.dbs import make_item, synthetic_texts
from tests.mocknet.client import fetch

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
CUTOFF = NOW - timedelta(hours=6)


def hours_ago(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)


def candidate(
    name: str, published: float | None, modified: float | None = None, site: str = "fr.de"
) -> RevisitCandidate:
    """A candidate published/modified that many hours before NOW (None: no date)."""
    return RevisitCandidate(
        f"http://{site}/{name}.html", site,
        None if published is None else hours_ago(published),
        None if modified is None else hours_ago(modified),
        f'"{name}"', None,
    )  # fmt: skip


A, B, C = candidate("a", 1), candidate("b", 2), candidate("c", 3)
OLD = candidate("old", 30)
OLD_EDITED = candidate("old-edited", 30, 0.5)  # a ticker of yesterday, edited 30 min ago
UNDATED = candidate("undated", None)
EDGE = candidate("edge", 6)  # published exactly at the cutoff
MERKUR = candidate("m", 0.2, site="merkur.de")

# (case, candidates as the store returned them, limit, sites, expected names in order)
CHOICES = [
    ("newest first, whatever the store's order", [C, A, B], 10, None, ["a", "b", "c"]),
    ("the limit keeps the newest", [C, A, B], 2, None, ["a", "b"]),
    ("old ones are not revisited", [A, OLD], 10, None, ["a"]),
    ("an old story edited lately is, ranked by its edit", [A, OLD_EDITED], 10, None,
     ["old-edited", "a"]),
    ("a story without dates is never young", [UNDATED, A], 10, None, ["a"]),
    ("the cutoff itself is young", [EDGE], 10, None, ["edge"]),
    ("listed by both dates, chosen once", [OLD_EDITED, A, OLD_EDITED], 10, None,
     ["old-edited", "a"]),
    ("only the selected portals", [MERKUR, A], 10, ["fr.de"], ["a"]),
    ("all portals when none is selected", [A, MERKUR], 10, None, ["m", "a"]),
    ("a limit of 0 chooses none", [A], 0, None, []),
    ("no candidates", [], 10, None, []),
]  # fmt: skip


@pytest.mark.parametrize(("candidates", "limit", "sites", "expected"),
                         [c[1:] for c in CHOICES], ids=[c[0] for c in CHOICES])  # fmt: skip
def test_choose_revisits(
    candidates: list[RevisitCandidate], limit: int, sites: list[str] | None, expected: list[str]
) -> None:
    chosen = choose_revisits(candidates, CUTOFF, limit, sites)
    assert [c.url.rsplit("/", 1)[1].removesuffix(".html") for c in chosen] == expected


def test_equal_dates_are_ordered_by_url() -> None:
    twins = [candidate("z", 1), candidate("y", 1), candidate("x", None, 1)]
    assert [c.url for c in choose_revisits(twins, CUTOFF, 10)] == [
        "http://fr.de/x.html", "http://fr.de/y.html", "http://fr.de/z.html",
    ]  # fmt: skip


CUTOFFS = [
    ("hours back from now", 6, None, hours_ago(6)),
    ("a since inside the hours narrows it", 6, hours_ago(1), hours_ago(1)),
    ("a since before the hours does not widen it", 6, hours_ago(72), hours_ago(6)),
    ("fractions of hours", 0.5, None, hours_ago(0.5)),
]


@pytest.mark.parametrize(("hours", "since", "expected"),
                         [c[1:] for c in CUTOFFS], ids=[c[0] for c in CUTOFFS])  # fmt: skip
def test_revisit_cutoff(hours: float, since: datetime | None, expected: datetime) -> None:
    assert revisit_cutoff(NOW, hours, since) == expected


def _middleware(tmp_path: Path, **overrides: Any) -> RevisitMiddleware:
    """The middleware with the project's revisit settings and these overrides."""
    settings = {
        "NEWSCRAWL_DATABASE_URL": f"sqlite:///{tmp_path}/news.db",
        "NEWSCRAWL_REVISIT_HOURS": project_settings.NEWSCRAWL_REVISIT_HOURS,
        "NEWSCRAWL_REVISIT_MAX": project_settings.NEWSCRAWL_REVISIT_MAX,
        **overrides,
    }
    return RevisitMiddleware.from_crawler(get_crawler(IppenSpider, settings))


@pytest.mark.parametrize(
    "settings", [{"NEWSCRAWL_REVISIT_HOURS": 0}, {"NEWSCRAWL_REVISIT_MAX": 0}], ids=str
)
def test_zero_turns_revisits_off(tmp_path: Path, settings: dict[str, Any]) -> None:
    with pytest.raises(NotConfigured):
        _middleware(tmp_path, **settings)


def test_revisits_are_on_by_default(tmp_path: Path) -> None:
    middleware = _middleware(tmp_path)
    assert (middleware.hours, middleware.limit) == (6.0, 200)
    middleware.store.close()


# --- the store's candidates ------------------------------------------------------------

STORIES = [  # (id, site, published hours ago, modified hours ago)
    ("96000001", "fr.de", 1, None),
    ("96000002", "fr.de", 2, 1.5),
    ("96000003", "merkur.de", 3, None),
    ("96000004", "fr.de", 30, 0.5),  # yesterday's ticker, edited lately
    ("96000005", "fr.de", 30, 29),
    ("96000006", "merkur.de", 40, None),
]


def _store(engine: Engine, now: datetime) -> None:
    texts = synthetic_texts(len(STORIES), seed=3)
    items = []
    for (online_id, site, published, modified), body in zip(STORIES, texts, strict=True):
        items.append(make_item(
            online_id, site, text=body, fetched_at=now,
            published_at=now - timedelta(hours=published),
            modified_at=None if modified is None else now - timedelta(hours=modified),
            http_etag=f'"{online_id}"', http_last_modified="Sun, 06 Dec 2026 10:00:00 GMT",
        ))  # fmt: skip
    assert write_batch(engine, items).new == len(STORIES)


def _ids(found: list[RevisitCandidate]) -> list[str]:
    return [c.url.rsplit("-", 1)[1].removesuffix(".html") for c in found]


def test_store_gives_the_newest_by_each_date(db_engine: Engine, db_url: str) -> None:
    now = datetime.now(UTC)
    _store(db_engine, now)
    store = Store(db_url)
    try:
        since = now - timedelta(hours=6)
        found = store.revisit_candidates(since, 10)
        # by publication (newest first), then by edit (newest first)
        assert _ids(found) == ["96000001", "96000002", "96000003", "96000004", "96000002"]
        assert found[0].etag == '"96000001"'
        assert found[0].last_modified == "Sun, 06 Dec 2026 10:00:00 GMT"
        assert _ids(store.revisit_candidates(since, 1)) == ["96000001", "96000004"]
        assert _ids(store.revisit_candidates(since, 10, ["merkur.de"])) == ["96000003"]
        chosen = choose_revisits(store.revisit_candidates(since, 2), since, 2)
        assert _ids(chosen) == ["96000004", "96000001"]
    finally:
        store.close()


def _plan(engine: Engine, sql: str, params: dict[str, Any]) -> str:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", tuple(params.values()))
            return "\n".join(str(row[-1]) for row in rows)
        # A few rows make a sequential scan cheapest; forbidding it shows whether an
        # index can answer at all (else the plan stays a Seq Scan, only costed higher).
        connection.execute(text("SET enable_seqscan = off"))
        rows = connection.exec_driver_sql(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in rows)


# published_at is read newest first through the index of migration 0008.
_INDEX = {"published_at": "ix_articles_published_desc", "modified_at": "ix_articles_modified_at"}


@pytest.mark.parametrize("sites", [None, ["fr.de"]], ids=["all sites", "one site"])
def test_candidates_are_read_through_indexes(db_engine: Engine, sites: list[str] | None) -> None:
    """Each of the two reads is an index range, never a scan of ``articles``."""
    _store(db_engine, datetime.now(UTC))
    dialect = postgresql.dialect() if db_engine.dialect.name == "postgresql" else sqlite.dialect()
    for column in (Article.published_at, Article.modified_at):
        query = select(*_COLUMNS).where(column >= NOW).order_by(column.desc()).limit(200)
        if sites:
            query = query.where((Article.site + "").in_(sites))  # as store/revisit.py
        compiled = query.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        plan = _plan(db_engine, str(compiled), dict(compiled.params))
        assert _INDEX[column.key] in plan, plan
        assert "SCAN articles" not in plan and "Seq Scan" not in plan, plan


# --- the mock's quiet edit ---------------------------------------------------------------


def test_a_quiet_edit_moves_the_page_date_not_the_sources(mock_network_factory) -> None:
    net = mock_network_factory(articles_per_portal=5, seed=2)
    meta = net.spec.regular_meta("fr.de", 1)
    before = fetch(meta.url)
    sitemap = net.base_url("fr.de") + "/sitemaps/articles-1.xml"
    listed = fetch(sitemap).body
    net.update_article(meta.article_id, "Neuer Stand.\n\nZweiter Absatz.", in_sources=False)
    after = fetch(meta.url)
    assert before.headers["Last-Modified"] == "Thu, 02 May 2024 08:58:00 GMT"  # published + 30 min
    assert after.headers["Last-Modified"] == "Thu, 02 May 2024 11:30:00 GMT"  # EPOCH + 30 min + 1 h
    assert '"dateModified":"2024-05-02T13:30:00+0200"' in after.text
    assert after.headers["ETag"] != before.headers["ETag"]
    assert fetch(sitemap).body == listed
    assert net.lastmod(meta.article_id).isoformat() == "2024-05-02T10:58:00+02:00"
