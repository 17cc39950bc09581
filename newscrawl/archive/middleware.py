"""``NEWSCRAWL_WARC_DIR``: every article response the crawl fetches, kept as WARC.

A downloader middleware next to the downloader (order 960, after every built-in one),
so ``process_response`` sees the response first, as the network delivered it: before
``HttpCompressionMiddleware`` (590) decompresses the body, before
``RedirectMiddleware`` (600) follows a 301, before ``RetryMiddleware`` (550). The
body written is therefore the bytes received, with the ``Content-Encoding`` header
that goes with them, and a redirect is a record of its own (the importer follows it
as the live crawl did). ``process_request`` of the other middlewares has run by then,
so the request record carries the headers that were sent (User-Agent, Accept-Encoding,
conditional headers).

Only article requests (the spider's ``ARTICLE`` meta, which redirects keep) are
written: sitemaps, feeds and listings are the crawl's means, not its result.

Records are built and written in one writer thread, in the order the responses
arrived: gzip and SHA-1 over a page cost about a millisecond, which the reactor
should not pay; zlib and hashlib release the GIL while they work.

Stats: ``newscrawl/warc/records`` (responses written), ``newscrawl/warc/bytes``
(compressed bytes of those request and response records), ``newscrawl/warc/files``,
``newscrawl/warc/failed`` (responses that could not be written, e.g. disk full;
logged once, the crawl goes on).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Headers, Response
from scrapy.statscollectors import StatsCollector

from newscrawl.archive.files import RotatingWarcFiles
from newscrawl.archive.records import Exchange, exchange_records
from newscrawl.spiders.ippen import ARTICLE

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 1_000_000_000
STATS = "newscrawl/warc"


def header_pairs(headers: Headers) -> list[tuple[str, str]]:
    """Scrapy's headers as (name, value) pairs, repeated headers kept, bytes as latin-1."""
    return [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in headers.items()
        for value in values
    ]


def exchange_of(request: Request, response: Response, fetched_at: datetime) -> Exchange:
    return Exchange(
        url=response.url,
        status=response.status,
        body=response.body,
        fetched_at=fetched_at,
        response_headers=header_pairs(response.headers),
        request_headers=header_pairs(request.headers),
        method=request.method,
        request_body=request.body,
        protocol=response.protocol or "HTTP/1.1",
        ip_address=str(response.ip_address) if response.ip_address else None,
    )


class WarcWriterMiddleware:
    def __init__(self, files: RotatingWarcFiles, stats: StatsCollector) -> None:
        self.files = files
        self.stats = stats
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="warc-writer")
        self._failed_logged = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcWriterMiddleware:
        settings = crawler.settings
        directory = settings.get("NEWSCRAWL_WARC_DIR")
        if not directory:
            raise NotConfigured
        max_bytes = settings.getint("NEWSCRAWL_WARC_MAX_BYTES", DEFAULT_MAX_BYTES)
        files = RotatingWarcFiles(Path(directory), max_bytes, datetime.now(UTC))
        middleware = cls(files, crawler.stats)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_opened(self, spider: Any = None) -> None:
        for path in self.files.seal_leftovers():
            logger.warning("Sealed the WARC file of a crawl that was killed: %s", path)
        logger.info("Keeping article responses as WARC in %s", self.files.directory)

    def spider_closed(self, spider: Any = None) -> None:
        self._executor.shutdown(wait=True)
        self.files.close()
        self.stats.set_value(f"{STATS}/files", len(self.files.finished))

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Any:
        if request.meta.get(ARTICLE):
            self._executor.submit(self._write, exchange_of(request, response, datetime.now(UTC)))
        return response

    def _write(self, exchange: Exchange) -> None:
        """In the writer thread: nothing here may raise, or the record would vanish unseen."""
        try:
            records = exchange_records(exchange)
            self.files.write(records)
        except Exception as exc:  # disk full, permissions: counted, logged once
            self.stats.inc_value(f"{STATS}/failed")
            if not self._failed_logged:
                self._failed_logged = True
                logger.error("Cannot write WARC records to %s: %s", self.files.directory, exc)
            return
        self.stats.inc_value(f"{STATS}/records")
        self.stats.inc_value(f"{STATS}/bytes", len(records))
