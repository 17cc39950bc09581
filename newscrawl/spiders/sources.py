"""The spider's sources: sitemaps (and their indexes), feeds and start pages.

A mixin of ``IppenSpider`` (``ippen.py``), before Scrapy's ``SitemapSpider`` in its bases:
each source is checked (size, XML bombs, type) and read, and its article links are handed
to the spider's ``follow_articles`` with the date the source gives them. A source that
fails is logged once and counted, per portal, and the crawl goes on.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import lxml.etree
from scrapy import Request
from scrapy.http import Response, TextResponse
from scrapy.utils.gz import gzip_magic_number
from scrapy.utils.sitemap import Sitemap
from twisted.python.failure import Failure

from newscrawl.dates import parse_timestamp
from newscrawl.spiders.failures import classify
from newscrawl.spiders.feeds import declares_entities, feed_items, feed_root
from newscrawl.spiders.links import article_hrefs
from newscrawl.urls import article_id

if TYPE_CHECKING:
    from scrapy.spiders import SitemapSpider

    from newscrawl.network import Network

    _Base = SitemapSpider
else:
    _Base = object

ARTICLE_PRIORITY = 10
"""Articles before more sources: the scheduler then holds one sitemap's worth of article
requests at a time instead of the whole archive's, so the crawl's memory does not grow
with the size of the network."""

# Request meta the incremental middleware reads: is it an article, and the date its source
# (sitemap lastmod, feed item date) gave it.
ARTICLE = "newscrawl_article"
LASTMOD = "newscrawl_lastmod"


class SourceCallbacks(_Base):
    """The callbacks of the spider's source requests (``IppenSpider.start`` makes them).

    What it uses of the spider: the attributes below (set in ``from_crawler``) and the
    article side's ``follow_articles``, ``_network_url``, ``_in_scope``,
    ``parse_article`` and ``page_failed``.
    """

    network: Network
    feed_max_items: int
    source_meta: dict[str, Any]
    """Request meta of a source: its size bounds (settings.py)."""
    _sitemap_body: tuple[Response, bytes | None] | None
    _entry_dates: dict[str, datetime | None]

    if TYPE_CHECKING:

        def follow_articles(
            self, urls: Iterable[str], lastmod: datetime | None = None
        ) -> Iterable[Request]: ...
        def _network_url(self, url: str, count_outside: bool = True) -> str | None: ...
        def _in_scope(self, canonical: str, dated: bool) -> bool: ...
        def parse_article(self, response: Response) -> Iterable[Any]: ...
        def page_failed(self, failure: Failure) -> None: ...

    def _parse_sitemap(self, response: Response) -> Iterable[Request]:
        problem = self._sitemap_problem(response)
        if problem is not None:
            self._sitemap_body = None
            self._bad_source(response.url, problem)
            return []
        self.crawler.stats.inc_value("newscrawl/source/sitemap")
        # SitemapSpider builds the requests from the entries sitemap_filter lets
        # through; their dates, which incremental runs need, are attached here.
        self._entry_dates: dict[str, datetime | None] = {}
        requests = []
        for request in super()._parse_sitemap(response):
            meta = {**request.meta, LASTMOD: self._entry_dates.get(request.url)}
            if request.callback == self.parse_article:
                meta[ARTICLE] = True
                requests.append(
                    request.replace(meta=meta, priority=ARTICLE_PRIORITY, errback=self.page_failed)
                )
            else:  # a child sitemap of an index: a source, with a source's bounds
                meta.update(self.source_meta, **{ARTICLE: False})
                requests.append(request.replace(meta=meta, errback=self.source_failed))
        self._entry_dates = {}
        self._sitemap_body = None
        return requests

    def _get_sitemap_body(self, response: Response) -> bytes | None:
        """SitemapSpider's, once per response: an .xml.gz is inflated once, not twice."""
        if self._sitemap_body is None or self._sitemap_body[0] is not response:
            self._sitemap_body = (response, super()._get_sitemap_body(response))
        return self._sitemap_body[1]

    def _sitemap_problem(self, response: Response) -> str | None:
        """Why a response is no sitemap to read, or ``None``."""
        body = self._get_sitemap_body(response)
        if body is None and gzip_magic_number(response):
            return "too_large"  # inflates past NEWSCRAWL_SOURCE_MAXSIZE: a gzip bomb
        if not body:
            return "invalid_sitemap"
        if declares_entities(body):
            return "xml_entities"  # a "billion laughs" bomb (never expanded), or a mistake
        try:
            if Sitemap(body).type in ("urlset", "sitemapindex"):
                return None
        except (lxml.etree.XMLSyntaxError, StopIteration):
            pass
        return "invalid_sitemap"

    def sitemap_filter(self, entries: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
        """Keep entries on the network's portals, each under its canonical URL; articles
        only of the selected portals."""
        for entry in entries:
            canonical = self._network_url(entry["loc"])
            lastmod = parse_timestamp(entry.get("lastmod"))
            if canonical is None:
                continue
            if article_id(canonical) and not self._in_scope(canonical, lastmod is not None):
                continue
            self._entry_dates[canonical] = lastmod
            yield {**entry, "loc": canonical}

    def parse_feed(self, response: Response) -> Iterable[Request]:
        if not isinstance(response, TextResponse) or feed_root(response.body) is None:
            self._bad_source(response.url, "invalid_feed")
            return
        if declares_entities(response.body):
            self._bad_source(response.url, "xml_entities")
            return
        self.crawler.stats.inc_value("newscrawl/source/feed")
        # Items are read and followed one at a time (feeds.py), up to the cap.
        for number, (link, date) in enumerate(feed_items(response.body)):
            if number == self.feed_max_items:
                self.logger.warning(
                    "Feed has more than %d items (NEWSCRAWL_FEED_MAX_ITEMS); the rest "
                    "are not followed: %s", self.feed_max_items, response.url,
                )  # fmt: skip
                self.crawler.stats.inc_value("newscrawl/source/truncated")
                return
            yield from self.follow_articles([link], lastmod=parse_timestamp(date))

    def parse_listing(self, response: Response) -> Iterable[Request]:
        if not isinstance(response, TextResponse):
            self._bad_source(response.url, "invalid_page")
            return
        self.crawler.stats.inc_value("newscrawl/source/page")
        yield from self.follow_articles(article_hrefs(response))

    def source_failed(self, failure: Failure) -> None:
        """An unreachable portal or a broken source is reported, and the crawl goes on."""
        url = failure.request.url  # type: ignore[attr-defined]
        self._bad_source(url, classify(failure.value).reason)

    def _bad_source(self, url: str, reason: str) -> None:
        self.logger.warning("Source failed (%s): %s", reason, url)
        self.crawler.stats.inc_value("newscrawl/source/failed")
        self.crawler.stats.inc_value(f"newscrawl/source/failed/{reason}")
        site = self.network.site_for(url)  # per portal, for the end-of-crawl report
        domain = site.domain if site is not None else "other"
        self.crawler.stats.inc_value(f"newscrawl/source/failed/site/{domain}")
