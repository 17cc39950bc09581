"""The incremental policy asks the store about a callback's article links together."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from scrapy import Request
from scrapy.utils.test import get_crawler
from sqlalchemy.engine import Engine

from newscrawl import incremental
from newscrawl.incremental import LOOKUP_CHUNK, IncrementalMiddleware
from newscrawl.spiders.ippen import ARTICLE
from newscrawl.store import Store, write_batch
from tests.dbs import make_item

UNKNOWN = [f"https://www.fr.de/politik/neu-{94_100_000 + n}.html" for n in range(LOOKUP_CHUNK + 99)]
REJECTED = "https://www.fr.de/politik/kaputt-94099999.html"


async def _now(value: Any) -> Any:
    return value


async def _outputs(requests: list[Request]) -> AsyncIterator[Any]:
    for request in requests:
        yield request


def _through(middleware: IncrementalMiddleware, requests: list[Request]) -> list[str]:
    async def run() -> list[str]:
        return [r.url async for r in middleware.process_spider_output(None, _outputs(requests))]

    return asyncio.run(run())


def test_a_callbacks_links_are_looked_up_a_chunk_at_a_time(
    db_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = make_item()
    rejected = {
        "url": REJECTED, "site": "fr.de", "reason": "empty", "http_etag": None,
        "fetched_at": datetime.now(UTC), "http_last_modified": None,
    }  # fmt: skip
    write_batch(db_engine, [stored], [rejected])
    store = Store(str(db_engine.url.render_as_string(hide_password=False)))
    statements: list[list[str]] = []
    one_at_a_time: list[str] = []
    many = store.stored_fetches
    monkeypatch.setattr(
        store,
        "stored_fetches",
        lambda urls, retry: statements.append(list(urls)) or many(urls, retry),
    )
    monkeypatch.setattr(store, "stored_fetch", lambda url, retry: one_at_a_time.append(url))
    # No thread pool outside a crawl: the store is asked in this thread.
    monkeypatch.setattr(incremental, "deferToThread", lambda call, *args: _now(call(*args)))
    monkeypatch.setattr(incremental, "maybe_deferred_to_future", lambda awaitable: awaitable)
    stats = get_crawler().stats  # Scrapy's own collector, as a crawl's
    assert stats is not None
    middleware = IncrementalMiddleware(store, stats, timedelta(hours=72), timedelta(hours=24))
    middleware.since = datetime(2000, 1, 1, tzinfo=UTC)
    sitemap = Request("https://www.fr.de/sitemap.xml")
    articles = [stored["url"], REJECTED, *UNKNOWN, stored["url"]]
    requests = [sitemap] + [Request(url, meta={ARTICLE: True}) for url in articles]

    passed = _through(middleware, requests)

    assert passed == [sitemap.url, *UNKNOWN]
    assert statements == [
        [stored["url"], REJECTED, *UNKNOWN[: LOOKUP_CHUNK - 3]],
        UNKNOWN[LOOKUP_CHUNK - 3 :],
    ]
    assert one_at_a_time == []
    assert stats.get_stats() == {
        "newscrawl/incremental/skipped/already_stored": 2,
        "newscrawl/incremental/skipped/rejected_recently": 1,
    }
    store.close()
