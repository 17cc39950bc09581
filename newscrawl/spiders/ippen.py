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

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from scrapy.spiders import SitemapSpider
from twisted.python.failure import Failure

from newscrawl.dates import parse_since
from newscrawl.items import ArticleItem
from newscrawl.network import DEFAULT_SITES_PATH, Network, Site
from newscrawl.onlineids import clock_from_settings
from newscrawl.spiders.failures import classify
from newscrawl.spiders.links import article_hrefs, canonical_href
from newscrawl.spiders.requested import RequestedLinks
from newscrawl.spiders.scope import OTHER_PORTAL, Scope
from newscrawl.spiders.sources import ARTICLE, ARTICLE_PRIORITY, LASTMOD, SourceCallbacks
from newscrawl.urls import ARTICLE_URL_PATTERN, article_id, host_of


class IppenSpider(SourceCallbacks, SitemapSpider):
    """``scrapy crawl ippen [-a sites=fr.de,merkur.de]``"""

    name = "ippen"
    sitemap_rules: ClassVar = [(ARTICLE_URL_PATTERN, "parse_article")]
    keeps_run_arguments: ClassVar[bool] = True
    """Its run window and portals are fixed once and kept for a resume (newscrawl/runargs.py)."""

    network: Network
    selected_sites: list[Site]
    arguments: dict[str, Any]
    """The ``-a`` arguments as given, recorded with the crawl run."""
    requested: RequestedLinks

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
        # The registry is the crawl's whole world: RegistryOffsiteMiddleware drops any
        # request, sources and redirects included, outside its origins (scheme, host,
        # port); the host names are kept here for Scrapy components that read them.
        spider.allowed_domains = sorted({site.host.split(":")[0] for site in spider.network.sites})
        spider.outside_hosts = Counter()
        settings = crawler.settings
        spider.feed_max_items = settings.getint("NEWSCRAWL_FEED_MAX_ITEMS")
        # Sitemaps and feeds are larger than pages: their own bound (settings.py).
        spider.source_meta = {
            "download_maxsize": settings.getint("NEWSCRAWL_SOURCE_MAXSIZE"),
            "download_warnsize": settings.getint("NEWSCRAWL_SOURCE_WARNSIZE"),
        }
        spider._sitemap_body = None
        spider.clock = clock_from_settings(
            settings.getlist("NEWSCRAWL_ONLINE_ID_ANCHORS"),
            settings.getfloat("NEWSCRAWL_ONLINE_ID_MARGIN_HOURS"),
        )
        spider.scope = spider.make_scope()
        # A link's fate depends on the page it is on when DEPTH_LIMIT is set (requested.py).
        spider.requested = RequestedLinks(enabled=not settings.getint("DEPTH_LIMIT"))
        return spider

    def make_scope(self) -> Scope:
        """The run's reach from ``sites`` and ``since`` as they stand (runargs.py may have
        restored or resolved them when the spider opened)."""
        since = getattr(self, "since", None)
        return Scope(
            frozenset(self.site_domains), parse_since(since) if since else None, self.clock
        )

    @property
    def window_start(self) -> datetime | None:
        """The run's ``since`` as a time: older items are not stored (validate.py)."""
        return self.scope.since

    async def start(self) -> AsyncIterator[Request]:
        self.scope = self.make_scope()
        for site in self.selected_sites:
            for url in site.sitemaps:
                yield self._source(site.absolute(url), self._parse_sitemap, self.source_meta)
            for url in site.feeds:
                yield self._source(site.absolute(url), self.parse_feed, self.source_meta)
            for url in site.start_pages:
                yield self._source(site.absolute(url), self.parse_listing, {})

    def _source(self, url: str, callback: Any, meta: dict[str, Any]) -> Request:
        return Request(
            url, callback=callback, errback=self.source_failed, dont_filter=True, meta=meta
        )

    # --- articles ------------------------------------------------------------------

    def page_failed(self, failure: Failure) -> None:
        """A page not fetched: counted by reason, logged once (failures.py says by whom)."""
        request = failure.request  # type: ignore[attr-defined]
        url = request.meta.get("redirect_urls", [request.url])[0]  # as listed, not a last hop
        failed = classify(failure.value)
        self.crawler.stats.inc_value("newscrawl/page/failed")
        self.crawler.stats.inc_value(f"newscrawl/page/failed/{failed.reason}")
        if failed.log:
            self.logger.warning("Page failed (%s): %s", failed.reason, url)

    def parse_article(self, response: Response) -> Iterable[ArticleItem | Request]:
        if response.status == 304:  # a conditional re-fetch: the stored copy is current
            return  # counted by whoever asked (incremental.py, revisit.py)
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
        if self.scope.page_outside(response.body, article_id(fetched_url)):
            # One hop out of the window at most: the page was requested (undated link,
            # or dated inside the id clock's margin), its links are not.
            self.crawler.stats.inc_value("newscrawl/since/article_requests_outside")
            return
        links = article_hrefs(response)
        if url != fetched_url:
            links.append(url)
        yield from self.follow_articles(links)

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

    def follow_articles(
        self, urls: Iterable[str], lastmod: datetime | None = None
    ) -> Iterable[Request]:
        """Requests for the article links among ``urls`` this run may fetch (on the
        network, in scope, not requested before), dated ``lastmod`` by their source.
        Public: the incremental middleware follows a skipped stored story's links too."""
        for url in urls:
            canonical = self._network_url(url)
            if canonical is not None and self._in_scope(canonical, dated=lastmod is not None):
                if lastmod is None and not self.requested.first_time(canonical):
                    # Requested before in this run: the scheduler would drop it.
                    self.crawler.stats.inc_value("newscrawl/links/requested_before")
                    continue
                meta = {ARTICLE: True, LASTMOD: lastmod}
                yield Request(
                    canonical, callback=self.parse_article, errback=self.page_failed,
                    meta=meta, priority=ARTICLE_PRIORITY,
                )  # fmt: skip

    def _in_scope(self, canonical: str, dated: bool) -> bool:
        """An article link of the selected portals that is not older than ``since`` by its
        id (a link its source dates is left to the incremental middleware's date check)."""
        online_id = article_id(canonical)
        if online_id is None:
            return False
        domain = self._site_of(canonical)
        refused = self.scope.link_refused(domain, None if dated else online_id)
        if refused == OTHER_PORTAL:
            self.crawler.stats.inc_value(f"newscrawl/other_portal_links/{domain}")
        elif refused is not None:
            self.crawler.stats.inc_value(f"newscrawl/since/links_skipped/{refused}")
        return refused is None

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
