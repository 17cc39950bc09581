"""Which requests the spider yields for an article page's links: each undated link once a run.

The spider is built as Scrapy builds it and fed pages as Scrapy hands them over; nothing
is fetched (the registry's portals are loopback addresses nobody listens on).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from newscrawl.spiders.ippen import ARTICLE, LASTMOD, IppenSpider

FR = "http://127.0.0.2:8765"
MERKUR = "http://127.0.0.3:8765"
REGISTRY = f"""
[[sites]]
domain = "fr.de"
name = "FR mock"
base_url = "{FR}"

[[sites]]
domain = "merkur.de"
name = "Merkur mock"
base_url = "{MERKUR}"
"""
X = f"{FR}/politik/x-90000001.html"
Y = f"{FR}/politik/y-90000002.html"
Z = f"{MERKUR}/lokales/z-90000003.html"


def spider(tmp_path: Path, **settings: Any) -> IppenSpider:
    registry = tmp_path / "sites.toml"
    registry.write_text(REGISTRY, encoding="utf-8")
    crawler = get_crawler(IppenSpider, {"NEWSCRAWL_SITES": str(registry), **settings})
    built = IppenSpider.from_crawler(crawler)
    crawler.spider = built
    return built


def page(url: str, *links: str) -> HtmlResponse:
    anchors = "".join(f'<a href="{link}">more</a>' for link in links)
    body = f"<html><head><title>t</title></head><body>{anchors}</body></html>"
    return HtmlResponse(
        url=url, body=body.encode(), encoding="utf-8", request=Request(url, meta={ARTICLE: True})
    )


def requested(spider: IppenSpider, response: HtmlResponse) -> list[str]:
    return [out.url for out in spider.parse_article(response) if isinstance(out, Request)]


def test_an_undated_link_is_requested_once_a_run(tmp_path: Path) -> None:
    crawl = spider(tmp_path)
    # Relative or with a query: one canonical URL each, requested once.
    assert requested(crawl, page(f"{FR}/a/first-90000010.html", X, "/politik/y-90000002.html",
                                 f"{X}?utm_source=feed", Z)) == [X, Y, Z]  # fmt: skip
    assert requested(crawl, page(f"{FR}/a/second-90000011.html", Y, Z, X)) == []
    assert requested(crawl, page(f"{MERKUR}/a/third-90000012.html", Z, X)) == []
    assert crawl.crawler.stats.get_value("newscrawl/links/requested_before") == 6


def test_a_dated_entry_still_goes_to_the_incremental_policy(tmp_path: Path) -> None:
    # A feed or sitemap date may get a stored URL re-fetched where the undated link was
    # skipped: such a request is never held back here, however often it comes.
    crawl = spider(tmp_path)
    assert requested(crawl, page(f"{FR}/a/first-90000010.html", X)) == [X]
    lastmod = datetime(2026, 12, 6, 12, tzinfo=UTC)
    again = list(crawl.follow_articles([X, X], lastmod=lastmod))
    assert [(r.url, r.meta[LASTMOD]) for r in again] == [(X, lastmod), (X, lastmod)]
    assert crawl.crawler.stats.get_value("newscrawl/links/requested_before") is None


def test_with_a_depth_limit_every_link_goes_on(tmp_path: Path) -> None:
    # The same link may be too deep on one page and not on another: the scheduler decides.
    crawl = spider(tmp_path, DEPTH_LIMIT=3)
    assert requested(crawl, page(f"{FR}/a/first-90000010.html", X, X)) == [X, X]
    assert requested(crawl, page(f"{FR}/a/second-90000011.html", X)) == [X]
