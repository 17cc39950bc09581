"""Revisit what changes: young articles are re-checked on every run, conditionally.

Live tickers and breaking stories change for hours after they were published, while
feeds date an item by its publication only and the incremental policy
(``incremental.py``) fetches a stored article again only when a source dates it later.
So each run also asks again for the stories published or modified in the last
``NEWSCRAWL_REVISIT_HOURS``, at most ``NEWSCRAWL_REVISIT_MAX`` of them, newest first,
with ``If-None-Match``/``If-Modified-Since`` from the stored fetch. A 304 costs a
request and nothing else: the spider drops it before extraction, nothing is written.
A changed page is a fetched page like any other: the store updates the row (and keeps
the old content as a version).

A spider middleware around ``start()`` (Scrapy's ``process_start``): the revisits are
start requests of the spider's own kind, so the spider stays unchanged, a cluster
seeds them once (``cluster/seeding.py`` wraps this), and they go through the
scheduler's duplicate filter like every article request: a URL a source lists again
in the same run, or one a resumed run (JOBDIR) already fetched, is fetched once.
Stats: ``newscrawl/revisit/requested`` (handed to the scheduler), ``.../not_modified``
(answered 304) and ``.../changed`` (answered with a page: the store decides whether
its content really changed, ``newscrawl/store/updated``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from newscrawl.incremental import make_conditional
from newscrawl.spiders.ippen import ARTICLE, ARTICLE_PRIORITY, LASTMOD, IppenSpider
from newscrawl.store import Store, StoreError
from newscrawl.store.revisit import RevisitCandidate

logger = logging.getLogger(__name__)

REVISIT = "newscrawl_revisit"
"""Request meta: this article request is a revisit (its response is counted)."""


def revisit_cutoff(now: datetime, hours: float, since: datetime | None) -> datetime:
    """Oldest publication or edit a run revisits: ``hours`` back from ``now``, and never
    before the run's ``since`` (nothing older is stored anyway)."""
    cutoff = now - timedelta(hours=hours)
    return max(cutoff, since) if since is not None else cutoff


def newest(candidate: RevisitCandidate) -> datetime | None:
    """A story's latest known date: its last edit, or its publication."""
    dates = [d for d in (candidate.published_at, candidate.modified_at) if d is not None]
    return max(dates) if dates else None


def choose_revisits(
    candidates: Iterable[RevisitCandidate],
    cutoff: datetime,
    limit: int,
    sites: Sequence[str] | None = None,
) -> list[RevisitCandidate]:
    """The stories a run revisits: published or modified at or after ``cutoff``, of
    ``sites`` if given, each once, newest first (by ``newest``, then URL, so the
    choice does not depend on the order the store returned them), at most ``limit``."""
    young: dict[str, tuple[datetime, RevisitCandidate]] = {}
    for candidate in candidates:
        latest = newest(candidate)
        if latest is None or latest < cutoff:
            continue
        if sites is not None and candidate.site not in sites:
            continue
        young.setdefault(candidate.url, (latest, candidate))
    ordered = sorted(young.values(), key=lambda pair: (-pair[0].timestamp(), pair[1].url))
    return [candidate for _, candidate in ordered[: max(limit, 0)]]


class RevisitMiddleware:
    """Spider middleware: the young articles a run revisits, before the spider's sources."""

    def __init__(self, crawler: Crawler, store: Store, hours: float, limit: int) -> None:
        self.crawler = crawler
        self.store = store
        self.hours = hours
        self.limit = limit

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RevisitMiddleware:
        settings = crawler.settings
        hours = settings.getfloat("NEWSCRAWL_REVISIT_HOURS")
        limit = settings.getint("NEWSCRAWL_REVISIT_MAX")
        if hours <= 0 or limit <= 0:
            raise NotConfigured
        store = Store(settings["NEWSCRAWL_DATABASE_URL"])
        middleware = cls(crawler, store, hours, limit)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_closed(self, spider: Any) -> None:
        self.store.close()

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        # Before the sources: a source that lists a revisited URL again in this run finds
        # it requested already, and the duplicate filter drops the source's request, not
        # the revisit (both are conditional; the revisit is the one counted).
        spider = self.crawler.spider
        if isinstance(spider, IppenSpider):  # the archive spider fetches nothing
            for request in await self._requests(spider):
                yield request
        async for item_or_request in start:
            yield item_or_request

    async def _requests(self, spider: IppenSpider) -> list[Request]:
        # The run's since as resolved when the spider opened (runargs.py), as start() takes it.
        since = spider.make_scope().since
        cutoff = revisit_cutoff(datetime.now(UTC), self.hours, since)
        # The selected portals (a resumed run's restored ones included); all: no filter.
        selected = len(spider.selected_sites) < len(spider.network.sites)
        sites = spider.site_domains if selected else None
        try:
            candidates = await maybe_deferred_to_future(
                deferToThread(self.store.revisit_candidates, cutoff, self.limit, sites)
            )
        except StoreError as exc:  # an empty store has no schema yet, too
            logger.info("No articles to revisit (cannot read the store: %s)", exc)
            return []
        chosen = choose_revisits(candidates, cutoff, self.limit, sites)
        if chosen:
            stats = self.crawler.stats
            assert stats is not None
            stats.set_value("newscrawl/revisit/requested", len(chosen))
            logger.info(
                "Revisiting %d articles published or modified since %s (at most %d)",
                len(chosen), cutoff.isoformat(timespec="seconds"), self.limit,
            )  # fmt: skip
        return [revisit_request(spider, candidate) for candidate in chosen]

    def process_spider_input(self, response: Response, spider: Any = None) -> None:
        if not response.meta.get(REVISIT):
            return
        outcome = "not_modified" if response.status == 304 else "changed"
        stats = self.crawler.stats
        assert stats is not None
        stats.inc_value(f"newscrawl/revisit/{outcome}")


def revisit_request(spider: IppenSpider, candidate: RevisitCandidate) -> Request:
    """A conditional article request for a stored story, handled as any article page."""
    request = Request(
        candidate.url, callback=spider.parse_article, errback=spider.page_failed,
        meta={ARTICLE: True, LASTMOD: None, REVISIT: True}, priority=ARTICLE_PRIORITY,
    )  # fmt: skip
    make_conditional(request, candidate.etag, candidate.last_modified)
    return request
