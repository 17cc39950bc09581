"""Runs that fetch only what is new.

A downloader middleware, so the policy sits in one place between the spider
(which finds URLs and the dates their sources give them) and the network:

* an entry older than the run's ``since`` is not requested (a sitemap index's
  old sub-sitemaps included, which is what turns the first run's backfill of
  years of archive into a few requests on every later run);
* an article the store already holds (under any of its URLs) is not requested
  unless its source dates it after the stored fetch;
* a re-fetch carries ``If-None-Match``/``If-Modified-Since``, and the spider
  takes a 304 as "unchanged".
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.statscollectors import StatsCollector
from scrapy.utils.defer import maybe_deferred_to_future
from sqlalchemy import Engine, or_, select
from sqlalchemy.exc import SQLAlchemyError
from twisted.internet.threads import deferToThread

from newscrawl.dates import parse_since
from newscrawl.spiders.ippen import ARTICLE, LASTMOD
from newscrawl.store.engine import make_engine
from newscrawl.store.models import Article, ArticleUrl

logger = logging.getLogger(__name__)


class StoredFetch(NamedTuple):
    fetched_at: datetime
    modified_at: datetime | None
    etag: str | None
    last_modified: str | None

    @property
    def version_time(self) -> datetime:
        """How new the stored content is, in the sources' own clock.

        Sources date an entry by its last edit (sitemap ``lastmod`` equals the
        page's ``dateModified`` on this CMS), so that is what a source date is
        compared with; the fetch time only stands in when the page gave no date.
        """
        return self.modified_at or self.fetched_at


class IncrementalMiddleware:
    def __init__(self, engine: Engine, stats: StatsCollector, window: timedelta) -> None:
        self.engine = engine
        self.stats = stats
        self.window = window
        self.since: datetime | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IncrementalMiddleware:
        settings = crawler.settings
        if not settings.getbool("NEWSCRAWL_INCREMENTAL"):
            raise NotConfigured
        engine = make_engine(settings["NEWSCRAWL_DATABASE_URL"])
        window = timedelta(hours=settings.getfloat("NEWSCRAWL_INCREMENTAL_WINDOW_HOURS"))
        middleware = cls(engine, crawler.stats, window)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_opened(self, spider: Any) -> None:
        since_arg = getattr(spider, "since", None)
        if since_arg:
            self.since = parse_since(since_arg)
        elif self._store_has_articles():
            self.since = datetime.now(UTC) - self.window
        if self.since:
            logger.info("Incremental run: sources' entries older than %s are skipped", self.since)
        else:
            logger.info("Empty store: backfill, every source entry is followed")

    def spider_closed(self, spider: Any) -> None:
        self.engine.dispose()

    async def process_request(self, request: Request, spider: Any = None) -> None:
        lastmod: datetime | None = request.meta.get(LASTMOD)
        if self.since and lastmod and lastmod < self.since:
            self._skip("older_than_since", request)
        if not request.meta.get(ARTICLE):
            return
        try:
            stored = await maybe_deferred_to_future(deferToThread(self._stored_fetch, request.url))
        except SQLAlchemyError as exc:
            # Not knowing what is stored costs a fetch, never an article.
            self._lookup_failed(exc)
            return
        if stored is None:
            return
        if lastmod is None or lastmod <= stored.version_time:
            self._skip("already_stored", request)
        self.stats.inc_value("newscrawl/incremental/refetch")
        if stored.etag:
            request.headers.setdefault(b"If-None-Match", stored.etag)
        if stored.last_modified:
            request.headers.setdefault(b"If-Modified-Since", stored.last_modified)
        request.meta["handle_httpstatus_list"] = [304]

    def _lookup_failed(self, exc: SQLAlchemyError) -> None:
        if not self.stats.get_value("newscrawl/incremental/lookup_failed"):
            cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            logger.warning("Cannot read the store, fetching articles regardless: %s", cause)
        self.stats.inc_value("newscrawl/incremental/lookup_failed")

    def _skip(self, reason: str, request: Request) -> None:
        self.stats.inc_value(f"newscrawl/incremental/skipped/{reason}")
        raise IgnoreRequest(f"{reason}: {request.url}")

    def _stored_fetch(self, url: str) -> StoredFetch | None:
        """The stored fetch of the story published under ``url``, if any (runs in a thread)."""
        query = (
            select(
                Article.fetched_at,
                Article.modified_at,
                Article.http_etag,
                Article.http_last_modified,
            )
            .where(
                or_(
                    Article.url == url,
                    Article.id.in_(select(ArticleUrl.article).where(ArticleUrl.url == url)),
                )
            )
            .limit(1)
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return StoredFetch(*row) if row else None

    def _store_has_articles(self) -> bool:
        try:
            with self.engine.connect() as connection:
                return connection.execute(select(Article.id).limit(1)).first() is not None
        except SQLAlchemyError:  # no schema yet: a first run
            return False
