"""The one spider of the network: discovers articles, fetches each once, yields it.

It only crawls. What a page says is the extract pipeline's job, and whether a
story is new the store's; the spider decides just two things about an article
page: its canonical URL (a ``rel=canonical`` on another portal of the
registry, for the same online id, wins) and which links to follow. It reads
both from the raw page (``links.py``) and hands the page on undecoded: the
extraction worker decodes and parses it, once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Any, ClassVar

import lxml.etree
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.spiders import SitemapSpider
from scrapy.utils.sitemap import Sitemap
from twisted.python.failure import Failure

from newscrawl.dates import parse_timestamp
from newscrawl.items import ArticleItem
from newscrawl.network import DEFAULT_SITES_PATH, Network, Site
from newscrawl.spiders.links import article_hrefs, canonical_href
from newscrawl.urls import ARTICLE_URL_PATTERN, article_id, host_of

# Articles before more sources: the scheduler then holds one sitemap's worth of
# article requests at a time instead of the whole archive's, so the crawl's memory
# does not grow with the size of the network.
ARTICLE_PRIORITY = 10

# Request meta the incremental middleware reads: is it an article, and the date
# its source (sitemap lastmod, feed item date) gave it.
ARTICLE = "newscrawl_article"
LASTMOD = "newscrawl_lastmod"


class IppenSpider(SitemapSpider):
    """``scrapy crawl ippen [-a sites=fr.de,merkur.de]``"""

    name = "ippen"
    sitemap_rules: ClassVar = [(ARTICLE_URL_PATTERN, "parse_article")]

    network: Network
    selected_sites: list[Site]
    arguments: dict[str, Any]
    """The ``-a`` arguments as given, recorded with the crawl run."""

    @property
    def site_domains(self) -> list[str]:
        return [site.domain for site in self.selected_sites]

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> IppenSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.arguments = dict(kwargs)
        spider.network = Network.load(crawler.settings.get("NEWSCRAWL_SITES") or DEFAULT_SITES_PATH)
        sites_arg = kwargs.get("sites")
        spider.selected_sites = spider.network.select(
            sites_arg.split(",") if isinstance(sites_arg, str) else sites_arg
        )
        # Scrapy's OffsiteMiddleware drops any request, redirects included, to a
        # host that is not a portal: the registry is the crawl's whole world.
        spider.allowed_domains = sorted({site.host.split(":")[0] for site in spider.network.sites})
        spider.outside_hosts = Counter()
        return spider

    async def start(self) -> AsyncIterator[Request]:
        for site in self.selected_sites:
            for url in site.sitemaps:
                yield self._source(site.absolute(url), self._parse_sitemap)
            for url in site.feeds:
                yield self._source(site.absolute(url), self.parse_feed)
            for url in site.start_pages:
                yield self._source(site.absolute(url), self.parse_listing)

    def _source(self, url: str, callback: Any) -> Request:
        return Request(url, callback=callback, errback=self.source_failed, dont_filter=True)

    # --- sources -------------------------------------------------------------------

    def _parse_sitemap(self, response: Response) -> Iterable[Request]:
        if not self._is_sitemap(response):
            self._bad_source(response.url, "invalid_sitemap")
            return []
        self.crawler.stats.inc_value("newscrawl/source/sitemap")
        # SitemapSpider builds the requests from the entries sitemap_filter lets
        # through; their dates, which incremental runs need, are attached here.
        self._entry_dates: dict[str, datetime | None] = {}
        requests = []
        for request in super()._parse_sitemap(response):
            is_article = request.callback == self.parse_article
            meta = {
                **request.meta,
                LASTMOD: self._entry_dates.get(request.url),
                ARTICLE: is_article,
            }
            priority = ARTICLE_PRIORITY if is_article else request.priority
            requests.append(request.replace(meta=meta, priority=priority))
        self._entry_dates = {}
        return requests

    def _is_sitemap(self, response: Response) -> bool:
        body = self._get_sitemap_body(response)
        try:
            return bool(body) and Sitemap(body).type in ("urlset", "sitemapindex")
        except (lxml.etree.XMLSyntaxError, StopIteration):
            return False

    def sitemap_filter(self, entries: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
        """Keep entries on the network's portals, each under its canonical URL."""
        for entry in entries:
            canonical = self._network_url(entry["loc"])
            if canonical is not None:
                self._entry_dates[canonical] = parse_timestamp(entry.get("lastmod"))
                yield {**entry, "loc": canonical}

    def parse_feed(self, response: Response) -> Iterable[Request]:
        if not isinstance(response, TextResponse):
            self._bad_source(response.url, "invalid_feed")
            return
        selector = response.selector
        selector.remove_namespaces()
        if not selector.xpath("/rss | /RDF | /feed"):
            self._bad_source(response.url, "invalid_feed")
            return
        self.crawler.stats.inc_value("newscrawl/source/feed")
        for entry in selector.xpath("//item | //entry"):
            link = entry.xpath("link/text() | link/@href").get(default="").strip()
            date = entry.xpath("date/text() | pubDate/text() | updated/text()").get()
            yield from self._follow_articles([link], lastmod=parse_timestamp(date))

    def parse_listing(self, response: Response) -> Iterable[Request]:
        if not isinstance(response, TextResponse):
            self._bad_source(response.url, "invalid_page")
            return
        self.crawler.stats.inc_value("newscrawl/source/page")
        yield from self._follow_articles(article_hrefs(response))

    def source_failed(self, failure: Failure) -> None:
        """An unreachable portal or a broken source is reported, and the crawl goes on."""
        url = failure.request.url  # type: ignore[attr-defined]
        if failure.check(HttpError):
            reason = f"http_{failure.value.response.status}"
        elif failure.check(IgnoreRequest):
            reason = "ignored"  # robots.txt forbids it
        else:
            reason = type(failure.value).__name__
        self._bad_source(url, reason)

    def _bad_source(self, url: str, reason: str) -> None:
        self.logger.warning("Source failed (%s): %s", reason, url)
        self.crawler.stats.inc_value("newscrawl/source/failed")
        self.crawler.stats.inc_value(f"newscrawl/source/failed/{reason}")
        site = self.network.site_for(url)  # per portal, for the end-of-crawl report
        domain = site.domain if site is not None else "other"
        self.crawler.stats.inc_value(f"newscrawl/source/failed/site/{domain}")

    # --- articles ------------------------------------------------------------------

    def parse_article(self, response: Response) -> Iterable[ArticleItem | Request]:
        if response.status == 304:  # a conditional re-fetch: the stored copy is current
            self.crawler.stats.inc_value("newscrawl/incremental/not_modified")
            return
        fetched_url = self._network_url(response.url)
        if fetched_url is None:  # redirected off the network; OffsiteMiddleware stops most
            return
        if not isinstance(response, TextResponse):
            self.logger.warning("Not a text page, skipped: %s", response.url)
            self.crawler.stats.inc_value("newscrawl/extract/failed")
            self.crawler.stats.inc_value("newscrawl/extract/failed/not_text")
            return
        url, external_canonical = self._canonical_of(response, fetched_url)
        yield ArticleItem(
            url=url,
            site=self._site_of(url),
            fetched_url=fetched_url,
            fetched_site=self._site_of(fetched_url),
            article_id=article_id(url),
            fetched_at=datetime.now(UTC),
            html=response.body,
            encoding=response.encoding,
            external_canonical=external_canonical,
            redirected_from=self._redirected_from(response, fetched_url),
            source_lastmod=response.meta.get(LASTMOD),
            http_etag=_header(response, b"ETag"),
            http_last_modified=_header(response, b"Last-Modified"),
        )
        links = article_hrefs(response)
        if url != fetched_url:
            links.append(url)
        yield from self._follow_articles(links)

    def _canonical_of(self, response: TextResponse, fetched_url: str) -> tuple[str, str | None]:
        """(URL to store the story under, canonical that points off the network).

        A ``rel=canonical`` on a portal of the registry names the story's
        original (a syndicated copy's canonical is the first portal's URL), but
        only when it carries the same online id; anything else is a CMS slip.
        """
        absolute = canonical_href(response)
        if not absolute:
            return fetched_url, None
        canonical = self._network_url(absolute, count_outside=False)
        if canonical is None:
            return fetched_url, absolute
        if article_id(canonical) == article_id(fetched_url):
            return canonical, None
        return fetched_url, None

    def _redirected_from(self, response: Response, fetched_url: str) -> list[dict[str, str]]:
        """The network URLs Scrapy's RedirectMiddleware followed to reach this page."""
        found = []
        for url in response.meta.get("redirect_urls", []):
            canonical = self.network.canonical(url)
            if canonical and canonical[0] != fetched_url:
                found.append({"url": canonical[0], "site": canonical[1].domain})
        return found

    def _follow_articles(
        self, urls: Iterable[str], lastmod: datetime | None = None
    ) -> Iterable[Request]:
        for url in urls:
            canonical = self._network_url(url)
            if canonical is not None and article_id(canonical):
                meta = {ARTICLE: True, LASTMOD: lastmod}
                yield Request(
                    canonical, callback=self.parse_article, meta=meta, priority=ARTICLE_PRIORITY
                )

    def _network_url(self, url: str, count_outside: bool = True) -> str | None:
        """Canonical form of a network URL; an outside article link is counted, never fetched."""
        found = self.network.canonical(url)
        if found is not None:
            return found[0]
        if count_outside and article_id(url):
            host = host_of(url)
            self.outside_hosts[host] += 1
            self.crawler.stats.inc_value(f"newscrawl/outside_links/{host}")
        return None

    def _site_of(self, url: str) -> str:
        site = self.network.site_for(url)
        assert site is not None, url  # only ever called with canonical network URLs
        return site.domain

    def closed(self, reason: str) -> None:
        if self.outside_hosts:
            report = ", ".join(f"{host} ({n})" for host, n in self.outside_hosts.most_common())
            self.logger.info(
                "Article links to hosts outside the registry (not fetched; a missing portal?): %s",
                report,
            )


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
