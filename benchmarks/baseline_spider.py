"""THE NAIVE BASELINE, not newscrawl: the crawler most people write first.

A plain Scrapy spider over the same portals (sitemaps, feeds, start pages, article
links) that runs ``trafilatura.extract`` in its callback, on the reactor thread, and
inserts each article with its own SQLAlchemy transaction. The benchmark measures
newscrawl against it; nothing in newscrawl imports it. It deliberately keeps the naive
choices (extraction blocking the downloads, one core, one commit per row, the database's
default durability) and nothing else, so the comparison shows what those choices cost.

    python -m benchmarks.baseline_spider --registry sites.toml --database-url URL \\
        [--stats-file stats.json] [-s NAME=VALUE ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tomllib
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import trafilatura
from scrapy import Request
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.spiders import SitemapSpider
from sqlalchemy import Column, Engine, Integer, MetaData, Table, Text, create_engine, insert

from benchmarks._stats import EXTENSION as STATS_EXTENSION

ARTICLE_URL = r"-\d{7,9}\.html$"

# A naive user's settings: Scrapy's defaults, with the same politeness overrides the
# benchmark gives newscrawl (passed with -s); the project's settings are not loaded.
SETTINGS: dict[str, Any] = {
    "BOT_NAME": "baseline",
    "ROBOTSTXT_OBEY": True,
    "LOG_LEVEL": "INFO",
    "TELNETCONSOLE_ENABLED": False,
    "EXTENSIONS": {STATS_EXTENSION: 0},
}

metadata = MetaData()
articles = Table(
    "baseline_articles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("url", Text, nullable=False),
    Column("title", Text),
    Column("author", Text),
    Column("date", Text),
    Column("text", Text),
    Column("document", Text),  # trafilatura's whole JSON, as a plain user keeps it
)


class BaselineSpider(SitemapSpider):
    name = "baseline"
    sitemap_rules = [(ARTICLE_URL, "parse_article")]  # noqa: RUF012 (Scrapy's API)

    engine: Engine

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> BaselineSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        sites = tomllib.loads(Path(kwargs["registry"]).read_text(encoding="utf-8"))["sites"]
        spider.sites = sites
        spider.sitemap_urls = [urljoin(s["base_url"], u) for s in sites for u in s["sitemaps"]]
        spider.allowed_domains = sorted({urlsplit(s["base_url"]).hostname for s in sites})
        spider.links = LinkExtractor(allow=ARTICLE_URL)
        spider.engine = create_engine(kwargs["database_url"])
        metadata.create_all(spider.engine)
        return spider

    async def start(self) -> AsyncIterator[Request]:
        async for request in super().start():  # the sitemaps
            yield request
        for site in self.sites:
            for url in site["feeds"]:
                yield Request(urljoin(site["base_url"], url), callback=self.parse_feed)
            for url in site["start_pages"]:
                yield Request(urljoin(site["base_url"], url), callback=self.parse_listing)

    def parse_feed(self, response: Response) -> Iterable[Request]:
        if not isinstance(response, TextResponse):
            return
        response.selector.remove_namespaces()
        for link in response.xpath("//item/link/text() | //entry/link/@href").getall():
            yield response.follow(link.strip(), callback=self.parse_article)

    def parse_listing(self, response: Response) -> Iterable[Request]:
        if isinstance(response, TextResponse):
            for link in self.links.extract_links(response):
                yield response.follow(link.url, callback=self.parse_article)

    def parse_article(self, response: Response) -> Iterable[Request]:
        if not isinstance(response, TextResponse):
            return
        result = trafilatura.extract(
            response.text, output_format="json", with_metadata=True, url=response.url
        )
        if result:
            self._store(response.url, json.loads(result))
        yield from self.parse_listing(response)

    def _store(self, url: str, document: dict[str, Any]) -> None:
        row = {key: document.get(key) for key in ("title", "author", "date", "text")}
        start = time.perf_counter()
        with self.engine.begin() as connection:  # one transaction, one commit, per article
            connection.execute(
                insert(articles).values(url=url, document=json.dumps(document), **row)
            )
        stats = self.crawler.stats
        stats.inc_value("baseline/write_seconds", time.perf_counter() - start)
        stats.inc_value("baseline/stored")

    def closed(self, reason: str) -> None:
        self.engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.baseline_spider")
    parser.add_argument("--registry", required=True, type=Path)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--stats-file", type=Path)
    parser.add_argument("-s", dest="settings", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args(argv)
    settings = dict(SETTINGS)
    for pair in args.settings:
        name, sep, value = pair.partition("=")
        if not sep:
            parser.error(f"-s needs NAME=VALUE, got {pair!r}")
        settings[name] = value
    if args.stats_file:
        settings["BENCHMARK_STATS_FILE"] = str(args.stats_file)
    process = CrawlerProcess(settings)
    process.crawl(BaselineSpider, registry=str(args.registry), database_url=args.database_url)
    process.start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
