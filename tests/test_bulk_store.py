"""The bulk loader of the store-of-a-year benchmark builds a store the store itself accepts.

Its rows bypass ``write_batch``, so these tests check them through the store's own doors:
the counts, the search finding exactly the stories that hold a word, ``show`` reading a
story with its publications and versions, and a re-fetch of a loaded story being
``unchanged`` (its content hash, URL rows and ids are what the writer would have made).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from benchmarks._bulk_store import ARTICLE_COLUMNS, build
from benchmarks._bulk_stories import FIRST_ONLINE_ID, Stories
from newscrawl.store import make_engine, search, write_batch
from newscrawl.store.models import Article, ArticleUrl, ArticleVersion, CrawlRun
from newscrawl.store.query import Filters, find_story
from newscrawl.store.stats import stats

COUNT = 300
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def test_a_loaded_store_is_one_the_store_reads_searches_and_writes(db_url: str) -> None:
    report = build(db_url, COUNT, now=NOW, runs=96)
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            counted = [
                conn.execute(select(func.count()).select_from(table)).scalar()
                for table in (Article, ArticleUrl, ArticleVersion, CrawlRun)
            ]
            oldest, newest = conn.execute(
                select(func.min(Article.published_at), func.max(Article.published_at))
            ).one()
            sites = conn.execute(select(func.count(Article.site.distinct()))).scalar()
            texts = conn.execute(select(Article.id, Article.text)).all()
        # a prior version for 1 story in 30; a day of cron runs
        assert counted == [COUNT, report.urls, 10, 96]
        assert COUNT < report.urls < COUNT * 1.5
        assert (oldest, sites) == (NOW - timedelta(days=365), 36)
        assert NOW - timedelta(days=2) < newest < NOW

        # The search index holds every story: a topic word finds exactly its stories.
        word = Stories(COUNT, NOW).topic(3)
        holding = {row.id for row in texts if word in row.text.split(": ")[0]}
        assert len(holding) >= 3
        found = search(engine, word, limit=COUNT)
        assert {row["id"] for row in found} == holding

        story = find_story(engine, str(FIRST_ONLINE_ID))
        assert story is not None and len(story.versions) == 1 and story.urls[0]["site"]
        assert sum(len(t.rows) for t in stats(engine, Filters(), 10).values()) > 0

        # A re-fetch of loaded stories as the crawl delivers them is "unchanged".
        with engine.connect() as conn:
            rows = conn.execute(select(*Article.__table__.c).where(Article.id <= 5)).all()
        items = [_item(row) for row in rows]
        result = write_batch(engine, items)
        assert [outcome.status for outcome in result.outcomes] == ["unchanged"] * 5
    finally:
        engine.dispose()


def _item(row: Any) -> dict[str, Any]:
    """The item the crawl would deliver for the stored story ``row``."""
    fields = ("url", "site", "article_id", "title", "lead", "text", "authors", "section",
              "published_at", "modified_at", "language")  # fmt: skip
    item = {name: getattr(row, name) for name in fields}
    item.update(fetched_url=row.url, fetched_site=row.site, fetched_at=row.fetched_at)
    return item


def test_a_store_of_a_week_spreads_its_stories_over_the_week() -> None:
    """``span``: the store of a week that issue 14's comparison builds (same rate)."""
    published = ARTICLE_COLUMNS.index("published_at")
    (chunk,) = Stories(7 * 24, NOW, span=timedelta(days=7)).chunks()
    dates = [row[published] for row in chunk.articles]
    assert dates == [NOW - timedelta(days=7) + timedelta(hours=n) for n in range(7 * 24)]
