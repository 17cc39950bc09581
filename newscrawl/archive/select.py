"""Which archived responses become articles, and the redirects that led to them: pure logic."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from urllib.parse import urljoin

from newscrawl.archive.reader import ArchivedResponse
from newscrawl.network import Network
from newscrawl.urls import article_id

# Skip reasons, stats newscrawl/archive/skipped/<reason>.
SKIP_REASONS = (
    "truncated", "other_host", "not_selected", "not_article", "status", "out_of_window",
    "not_html",
)  # fmt: skip
REDIRECTS_REMEMBERED = 10_000
_HTML_TYPES = {b"text/html", b"application/xhtml+xml", b""}


def skip_reason(
    record: ArchivedResponse,
    network: Network,
    selected: frozenset[str],
    since: datetime | None = None,
    until: datetime | None = None,
) -> str | None:
    """Why ``record`` is not an article page to import, or None to import it.

    In this order: a record the end of its file cut (``truncated``), a host outside the
    registry (``other_host``), a portal not in ``-a sites=`` (``not_selected``), a URL
    that is not an article by the network's URL grammar (``not_article``), a status
    other than 200 (``status``: redirects, 404s, 304s), a fetch outside
    ``since``/``until`` (``out_of_window``), a ``Content-Type`` that is not HTML
    (``not_html``).
    """
    if record.truncated:
        return "truncated"
    found = network.canonical(record.url)
    if found is None:
        return "other_host"
    url, site = found
    if site.domain not in selected:
        return "not_selected"
    if not article_id(url):
        return "not_article"
    if record.status != 200:
        return "status"
    if (since and record.date < since) or (until and record.date > until):
        return "out_of_window"
    if not _may_be_html(record.headers):
        return "not_html"
    return None


def _may_be_html(headers: list[tuple[bytes, bytes]]) -> bool:
    """False when ``Content-Type`` names something else (a picture, a PDF). Without one,
    Scrapy's response class decides, as in a live crawl (the spider checks it)."""
    value = next((v for k, v in headers if k.lower() == b"content-type"), None)
    if value is None:
        return True
    mimetype = value.split(b";", 1)[0].strip().lower()
    return mimetype in _HTML_TYPES


class Redirects:
    """Redirect records seen, so that an article's old URLs are kept as in a live crawl.

    A crawl that follows a 301 archives the 301 before the page it leads to; Scrapy's
    RedirectMiddleware put the old URL in ``redirect_urls`` and the store keeps it as a
    publication. Here the 301's ``Location`` is remembered (the last
    ``REDIRECTS_REMEMBERED``) and given back for the page.
    """

    def __init__(self, network: Network, remembered: int = REDIRECTS_REMEMBERED) -> None:
        self.network = network
        self.remembered = remembered
        self._sources: OrderedDict[str, str] = OrderedDict()

    def note(self, record: ArchivedResponse) -> None:
        if not 300 <= record.status < 400:
            return
        location = next((v for k, v in record.headers if k.lower() == b"location"), None)
        if not location:
            return
        target = self._key(urljoin(record.url, location.decode("latin-1")))
        self._sources[target] = record.url
        self._sources.move_to_end(target)
        if len(self._sources) > self.remembered:
            self._sources.popitem(last=False)

    def chain(self, url: str) -> list[str]:
        """The URLs that redirected to ``url``, first one first (Scrapy's ``redirect_urls``)."""
        chain: list[str] = []
        current = self._key(url)
        while (source := self._sources.get(current)) is not None and source not in chain:
            chain.insert(0, source)
            current = self._key(source)
        return chain

    def _key(self, url: str) -> str:
        found = self.network.canonical(url)
        return found[0] if found else url
