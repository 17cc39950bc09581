"""A minimal HTTP client for tests of and against the mock: no redirects, no cookies, no retries.

``urllib`` follows redirects and raises on 404; a test that looks at a 301 or a 404 wants
the raw answer, so this talks ``http.client`` directly.
"""

from __future__ import annotations

import gzip
import http.client
from urllib.parse import urlsplit

import lxml.etree
import lxml.html

SITEMAP_NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
RSS_NS = {"r": "http://purl.org/rss/1.0/"}


class Fetched:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def links(self, base: str) -> set[str]:
        """Absolute ``href`` targets of an HTML page (fragments and queries kept)."""
        tree = lxml.html.fromstring(self.body, base_url=base)
        tree.make_links_absolute(base, resolve_base_href=False)
        return {href for _, attr, href, _ in tree.iterlinks() if attr == "href"}


def fetch(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> Fetched:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return Fetched(response.status, dict(response.getheaders()), response.read())
    finally:
        connection.close()


def sitemap_locs(body: bytes) -> list[str]:
    """``<loc>`` values of a sitemap or sitemap index (gzip bodies are unpacked)."""
    if body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    return [loc.text or "" for loc in lxml.etree.fromstring(body).iterfind(".//s:loc", SITEMAP_NS)]


def walk_sitemaps(root_url: str) -> dict[str, list[str]]:
    """Each (non-index) sitemap reachable from ``root_url`` -> its URLs; unparsable: skipped."""
    found: dict[str, list[str]] = {}
    queue = [root_url]
    while queue:
        url = queue.pop()
        body = fetch(url).body
        try:
            locs = sitemap_locs(body)
        except lxml.etree.XMLSyntaxError:
            continue
        if b"<sitemapindex" in (gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body):
            queue += locs
        else:
            found[url] = locs
    return found
