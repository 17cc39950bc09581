"""Runs that fetch only what is new.

A spider middleware, so the policy sits in one place between the spider (which
finds URLs and the dates their sources give them) and the scheduler:

* an entry older than the run's ``since`` is not requested (a sitemap index's
  old sub-sitemaps included, which is what turns the first run's backfill of
  years of archive into a few requests on every later run);
* an article the store already holds (under any of its URLs) is not requested
  unless its source dates it after the stored fetch;
* a re-fetch carries ``If-None-Match``/``If-Modified-Since``, and the spider
  takes a 304 as "unchanged".

It sits before the scheduler on purpose: one URL comes from several sources in
one run (the feed dates it by publication, the news sitemap by its last edit),
and the scheduler's duplicate filter lets only the first request through. A
request skipped here never reaches that filter, so the source with the newer
date still gets its turn.

A redirect (an old slug answering 301 with its new URL) is followed by Scrapy's
RedirectMiddleware, whose new request never passes the spider middlewares;
``IncrementalRedirectMiddleware`` (a downloader middleware placed after it, so it
sees the 3xx first) puts the target through the same policy before it is fetched.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from newscrawl.dates import parse_since
from newscrawl.spiders.ippen import ARTICLE, LASTMOD
from newscrawl.store import Store, StoredFetch, StoreError

logger = logging.getLogger(__name__)

REFETCH = "newscrawl_refetch"
"""Request meta: a conditional re-fetch of this policy (its 304 is counted here)."""

# Lookups remembered per run (an LRU): pages link the same articles again and again,
# and a bounded cache keeps a backfill of millions of URLs from growing the process.
KNOWN_URLS_CACHED = 20_000
# A callback's output is looked up this many at a time: a sitemap's entries or an
# article's links in one statement, without holding a whole archive sitemap's requests.
LOOKUP_CHUNK = 500


async def _chunks(outputs: AsyncIterator[Any], size: int) -> AsyncIterator[list[Any]]:
    chunk: list[Any] = []
    async for output in outputs:
        chunk.append(output)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class IncrementalMiddleware:
    SAYS_WHAT_RUNS = True
    """Logs the run's kind at the start (the redirect middleware's copy does not)."""

    def __init__(
        self, store: Store, stats: StatsCollector, window: timedelta, retry_rejected: timedelta
    ) -> None:
        self.store = store
        self.stats = stats
        self.window = window
        self.retry_rejected = retry_rejected
        self.since: datetime | None = None
        self.crawler: Crawler | None = None
        self._known: OrderedDict[str, StoredFetch | None] = OrderedDict()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IncrementalMiddleware:
        settings = crawler.settings
        if not settings.getbool("NEWSCRAWL_INCREMENTAL"):
            raise NotConfigured
        store = Store(settings["NEWSCRAWL_DATABASE_URL"])
        window = timedelta(hours=settings.getfloat("NEWSCRAWL_INCREMENTAL_WINDOW_HOURS"))
        retry = timedelta(hours=settings.getfloat("NEWSCRAWL_RETRY_REJECTED_HOURS"))
        middleware = cls(store, crawler.stats, window, retry)
        middleware.crawler = crawler
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_opened(self, spider: Any) -> None:
        if getattr(spider, "backfill", False):  # a resumed backfill (newscrawl/runargs.py)
            self.since = None
        else:
            self.since = run_since(
                getattr(spider, "since", None), self.window,
                lambda: self.store.backfill_finished(spider.name),
            )  # fmt: skip
        if not self.SAYS_WHAT_RUNS:
            return
        if self.since:
            logger.info("Incremental run: sources' entries older than %s are skipped", self.since)
        else:
            logger.info("No backfill has finished yet: every source entry is followed")

    def spider_closed(self, spider: Any) -> None:
        self.store.close()

    async def process_spider_output(
        self, response: Response, result: AsyncIterator[Any], spider: Any = None
    ) -> AsyncIterator[Any]:
        spider = self.crawler.spider if self.crawler is not None else spider
        async for outputs in _chunks(result, LOOKUP_CHUNK):
            await self._look_up(outputs)
            for output in outputs:
                if not isinstance(output, Request):
                    yield output
                    continue
                pending = [output]
                while pending:
                    request = pending.pop()
                    if await self._wanted(request):
                        yield request
                    elif self._walks_stored_links(request):
                        pending.extend(await self._stored_link_requests(request, spider))

    async def _look_up(self, outputs: list[Any]) -> None:
        """Ask the store about every article URL of ``outputs`` it was not asked about yet,
        in one statement, so that ``_wanted`` finds them remembered."""
        urls = list(dict.fromkeys(
            output.url for output in outputs
            if isinstance(output, Request) and output.meta.get(ARTICLE)
            and output.url not in self._known
        ))  # fmt: skip
        if not urls:
            return
        try:
            found = await maybe_deferred_to_future(
                deferToThread(self.store.stored_fetches, urls, self.retry_rejected)
            )
        except StoreError:
            return  # each URL is then asked on its own, and a failure counted there
        for url in urls:
            self._remember(url, found.get(url))

    def _walks_stored_links(self, request: Request) -> bool:
        """A backfill (no ``since``) that skips a stored article still follows its body
        links, from the store: a run that an interrupted one left stories to would
        otherwise never reach the articles only those stories link to."""
        stored = self._known.get(request.url)
        return self.since is None and stored is not None and not stored.rejected

    async def _stored_link_requests(self, request: Request, spider: Any) -> list[Request]:
        follow = getattr(spider, "follow_articles", None)
        if follow is None:
            return []
        try:
            links = await maybe_deferred_to_future(
                deferToThread(self.store.stored_links, request.url)
            )
        except StoreError as exc:
            self._lookup_failed(exc)
            return []
        requests = list(follow(links))
        self.stats.inc_value("newscrawl/incremental/stored_links_followed", len(requests))
        await self._look_up(requests)
        return requests

    async def _wanted(
        self, request: Request, stored_reason: str = "already_stored", url: str | None = None
    ) -> bool:
        """Whether ``request`` goes out; when it does as a re-fetch, it is made conditional.
        ``url``: the story to look up when it is not the request's own (a redirect target)."""
        lastmod: datetime | None = request.meta.get(LASTMOD)
        if self.since and lastmod and lastmod < self.since:
            return self._skip("older_than_since")
        if not request.meta.get(ARTICLE):
            return True
        try:
            stored = await self._lookup(url or request.url)
        except StoreError as exc:
            # Not knowing what is stored costs a fetch, never an article.
            self._lookup_failed(exc)
            return True
        if stored is None:
            return True
        if lastmod is None or lastmod <= stored.version_time:
            return self._skip("rejected_recently" if stored.rejected else stored_reason)
        if stored.rejected:
            return True  # its source has a newer page: a plain fetch, the old one was no use
        self.stats.inc_value("newscrawl/incremental/refetch")
        make_conditional(request, stored.etag, stored.last_modified)
        request.meta[REFETCH] = True
        return True

    def process_spider_input(self, response: Response, spider: Any = None) -> None:
        # Only this policy's re-fetches: a revisit's 304 is revisit.py's to count.
        if response.status == 304 and response.meta.get(REFETCH):
            self.stats.inc_value("newscrawl/incremental/not_modified")

    async def _lookup(self, url: str) -> StoredFetch | None:
        """What the store holds for ``url``; remembered, as every page links the same URLs."""
        if url in self._known:
            self._known.move_to_end(url)
            return self._known[url]
        stored = await maybe_deferred_to_future(
            deferToThread(self.store.stored_fetch, url, self.retry_rejected)
        )
        self._remember(url, stored)
        return stored

    def _remember(self, url: str, stored: StoredFetch | None) -> None:
        self._known[url] = stored
        self._known.move_to_end(url)
        if len(self._known) > KNOWN_URLS_CACHED:
            self._known.popitem(last=False)

    def _lookup_failed(self, exc: StoreError) -> None:
        if not self.stats.get_value("newscrawl/incremental/lookup_failed"):
            logger.warning("Cannot read the store, fetching articles regardless: %s", exc)
        self.stats.inc_value("newscrawl/incremental/lookup_failed")

    def _skip(self, reason: str) -> bool:
        self.stats.inc_value(f"newscrawl/incremental/skipped/{reason}")
        return False


class IncrementalRedirectMiddleware(IncrementalMiddleware):
    """Downloader middleware: an article's redirect target passes the incremental policy.

    Placed after RedirectMiddleware (a higher number: responses reach it first), it
    looks at a 3xx of an article request before the redirect is followed: a target the
    store holds (and the source does not date later) is not fetched, the request is
    dropped with ``IgnoreRequest`` and counted ``newscrawl/incremental/skipped/
    redirect_stored``. A stored target its source dates later is followed as a re-fetch,
    conditionally; anything else goes on to RedirectMiddleware untouched.
    """

    REDIRECTS = (301, 302, 303, 307, 308)
    SAYS_WHAT_RUNS = False

    async def process_response(self, request: Request, response: Response, spider: Any) -> Any:
        location = response.headers.get(b"Location")
        if response.status not in self.REDIRECTS or not location or not request.meta.get(ARTICLE):
            return response
        network = getattr(spider, "network", None)
        target = urljoin(request.url, location.decode("latin-1"))
        canonical = network.canonical(target) if network is not None else None
        if canonical is None or canonical[0] == request.url:
            return response
        # A re-fetch of the target is made conditional on this request, whose headers and
        # meta RedirectMiddleware copies into the request it follows the redirect with.
        if await self._wanted(request, "redirect_stored", url=canonical[0]):
            return response
        raise IgnoreRequest(f"redirect target {canonical[0]} is stored already")


def make_conditional(request: Request, etag: str | None, last_modified: str | None) -> None:
    """Ask for the page only if it changed since the stored fetch (its ``ETag`` and
    ``Last-Modified``), and let the 304 that says it did not reach the spider, which
    takes it as "unchanged" (``IppenSpider.parse_article``). Without either header the
    request stays a plain fetch."""
    if etag:
        request.headers.setdefault(b"If-None-Match", etag)
    if last_modified:
        request.headers.setdefault(b"If-Modified-Since", last_modified)
    request.meta["handle_httpstatus_list"] = [304]


def run_since(
    since_arg: str | None, window: timedelta, backfilled: Callable[[], bool]
) -> datetime | None:
    """A run's cut-off: ``-a since=`` if given, the window back from now once a backfill
    has finished (``backfilled``), and none (a backfill) until then.

    Not "once the store holds articles": a first run killed halfway leaves a store that
    is far from whole, and a window would never fetch the rest.
    """
    if since_arg:
        return parse_since(since_arg)
    return datetime.now(UTC) - window if backfilled() else None
