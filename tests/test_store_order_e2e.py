"""A real crawl of the mock network stores the same rows whatever the order pages
arrive in and the batches they are written in (one request at a time, batches of 7,
against Scrapy's default concurrency and batches of 500), on both databases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from newscrawl.store import make_engine
from newscrawl.store.models import Article, ArticleUrl
from tests.crawling import crawl
from tests.dbs import empty_postgres
from tests.mocknet import MockNetwork

SLOW_AND_SMALL = ("-s", "CONCURRENT_REQUESTS=1", "-s", "NEWSCRAWL_STORE_BATCH_SIZE=7")


def tables(database: str) -> dict[str, Any]:
    """Rows, row URLs, publications and authors: what a reader of the store sees."""
    engine = make_engine(database)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(Article.url, Article.site, Article.article_id, Article.authors,
                       Article.title, Article.text)
            ).all()  # fmt: skip
            publications = conn.execute(
                select(ArticleUrl.url, ArticleUrl.article_id, Article.url).join(
                    Article, ArticleUrl.article == Article.id
                )
            ).all()
    finally:
        engine.dispose()
    return {
        "rows": sorted(tuple(row) for row in rows),
        "publications": sorted(tuple(row) for row in publications),
    }


def test_crawl_order_and_batches_do_not_change_the_rows(
    mock_network_factory: Any, db_url: str, tmp_path: Path
) -> None:
    net: MockNetwork = mock_network_factory(articles_per_portal=6, seed=3)
    first = crawl(net.registry_path, db_url, tmp_path)
    assert first.returncode == 0, first.log[-3000:]
    default = tables(db_url)
    assert {row[0] for row in default["rows"]} == set(net.expected_urls)

    if db_url.startswith("sqlite"):
        second_db = f"sqlite:///{tmp_path}/second.db"
    else:
        empty_postgres(db_url)
        second_db = db_url
    second = crawl(net.registry_path, second_db, tmp_path, *SLOW_AND_SMALL)
    assert second.returncode == 0, second.log[-3000:]
    assert tables(second_db) == default
