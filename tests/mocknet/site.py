"""What a portal answers for a path: routing, with no HTTP plumbing (see :mod:`server`)."""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from itertools import islice

from tests.mocknet import pages, sources, specials, stories
from tests.mocknet.spec import LISTING_SIZE, TOPIC_PATH, ArticleMeta, NetworkSpec
from tests.mocknet.state import StateFile, modified_at

HTML = "text/html; charset=utf-8"
XML = "application/xml; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
ARTICLE_PATH = re.compile(r"^/(?:[a-z0-9-]+/)*[a-z0-9-]+-(\d{7,9})\.html$")
LISTING_PATH = re.compile(r"^/(?:[a-z0-9-]+/){1,3}$")
SECTION_FEED = re.compile(r"^/((?:[a-z0-9-]+/)+)rssfeed\.rdf$")
CHILD_SITEMAP = re.compile(r"^/sitemaps/articles-(\d+)\.xml$")
STATIC_TYPES = {
    ".jpg": "image/jpeg", ".png": "image/png", ".ico": "image/x-icon", ".svg": "image/svg+xml",
    ".css": "text/css", ".js": "application/javascript", ".json": "application/json",
}  # fmt: skip
TINY_JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")


@dataclass
class Response:
    status: int
    content_type: str | None = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    last_modified: datetime | None = None

    @property
    def etag(self) -> str | None:
        return self.headers.get("ETag")


def _ok(body: str | bytes, content_type: str, last_modified: datetime | None = None) -> Response:
    data = body.encode("utf-8") if isinstance(body, str) else body
    etag = '"' + hashlib.blake2b(data, digest_size=8).hexdigest() + '"'
    response = Response(200, content_type, data, {"ETag": etag}, last_modified)
    if last_modified is not None:
        response.headers["Last-Modified"] = format_datetime(
            last_modified.astimezone(UTC), usegmt=True
        )
    return response


def _with_lastmod(body: str, content_type: str, entries, state: StateFile) -> Response:
    latest = max((modified_at(m, state.get(m.article_id)) for _, m in entries), default=None)
    return _ok(body, content_type, latest)


def not_found(domain: str) -> Response:
    return Response(404, HTML, pages.render_not_found(domain).encode("utf-8"))


def respond(spec: NetworkSpec, state: StateFile, domain: str, path: str) -> Response:
    """The response of portal ``domain`` to ``path`` (query and fragment already removed)."""
    match = ARTICLE_PATH.match(path)
    if match:
        return _article(spec, state, domain, path, match.group(1))
    if domain == spec.outside.domain:
        return not_found(domain)
    for handler in (_source, _sitemap, _static, _listing):
        response = handler(spec, state, domain, path)
        if response is not None:
            return response
    return not_found(domain)


def _article(spec: NetworkSpec, state: StateFile, domain: str, path: str, article_id: str):
    meta = spec.article_on(domain, article_id)
    if meta is None:
        return not_found(domain)
    if path != meta.path:
        # the network answers any slug of a known id with a 301 to the current one
        return Response(301, HTML, b"", {"Location": meta.url})
    if meta.kind == "binary_page":
        junk = random.Random(f"{spec.seed}/junk").randbytes(4096)
        return Response(200, "text/html", b"\x00\xff\xfe" + junk)
    if meta.kind == "empty_page":
        return Response(200, HTML, b"")
    revision = state.get(article_id)
    if meta.kind in stories.KINDS:
        modified, page = stories.render(spec, meta, revision.revision)
    else:
        modified = modified_at(meta, revision, page=True)
        elements = pages.body_elements(spec, meta, revision.revision, revision.text)
        page = pages.render_article(spec, meta, modified, elements)
    body = page.encode(meta.encoding, errors="xmlcharrefreplace")
    response = _ok(body, f"text/html; charset={meta.encoding.upper()}", modified)
    response.headers["ETag"] = f'"{article_id}-{revision.revision}-{revision.bumps}"'
    return response


def _source(spec: NetworkSpec, state: StateFile, domain: str, path: str) -> Response | None:
    if path == "/robots.txt":
        return _ok(sources.robots(spec, domain), "text/plain; charset=utf-8")
    section_feed = SECTION_FEED.match(path)
    if path == "/rssfeed.rdf" or section_feed:
        section = section_feed.group(1).rstrip("/") if section_feed else None
        if spec.base_url(domain) + path == spec.specials.broken_feed:
            return not_found(domain)
        if section is not None and section not in spec.portal(domain).sections:
            return not_found(domain)
        entries = sources.feed_entries(spec, domain, section)
        return _with_lastmod(sources.rss(spec, domain, path, entries), RSS, entries, state)
    if path == "/news.xml":
        entries = sources.news_entries(spec, domain)
        return _with_lastmod(
            sources.news_sitemap(spec, domain, entries, state), XML, entries, state
        )
    return None


def _sitemap(spec: NetworkSpec, state: StateFile, domain: str, path: str) -> Response | None:
    if path == "/sitemap-index.xml":
        return _ok(sources.index_xml(spec, domain, sources.sitemap_index(spec, domain), state), XML)
    if path == "/sitemaps/archive-index.xml":
        return _ok(sources.index_xml(spec, domain, sources.ARCHIVE_CHILDREN, state), XML)
    if path == "/sitemaps/archive-1.xml.gz":
        entries = sources.chunk_entries(spec, domain, 0, archive=True)
        body = sources.gzipped(sources.urlset(entries, state))
        return _with_lastmod(body, "application/x-gzip", entries, state)  # type: ignore[arg-type]
    if path == "/sitemaps/sitemap-broken.xml" and "/sitemaps/sitemap-broken.xml" in (
        sources.sitemap_index(spec, domain)
    ):
        return _ok(sources.MALFORMED_SITEMAP, XML)
    child = CHILD_SITEMAP.match(path)
    if child and 1 <= int(child.group(1)) < len(spec.sitemap_chunks(domain)):
        entries = sources.chunk_entries(spec, domain, int(child.group(1)), archive=False)
        return _with_lastmod(sources.urlset(entries, state), XML, entries, state)
    return None


def _static(spec: NetworkSpec, state: StateFile, domain: str, path: str) -> Response | None:
    suffix = path[path.rfind(".") :] if "." in path.rsplit("/", 1)[-1] else ""
    if suffix not in STATIC_TYPES:
        return None
    return _ok(TINY_JPEG if suffix == ".jpg" else b"", STATIC_TYPES[suffix])


def _listing(spec: NetworkSpec, state: StateFile, domain: str, path: str) -> Response | None:
    portal = spec.portal(domain)
    extra: list[str] = []
    if path == "/":
        heading, ids = portal.name, spec.regular_ids(domain)
        extra = specials.home_urls(spec, domain)
    elif path.strip("/") in portal.sections:
        heading, ids = path.strip("/").title(), spec.regular_ids(domain, path.strip("/"))
    elif any(path == author_path for _, author_path in portal.authors):
        heading = next(name for name, p in portal.authors if p == path)
        ids = (spec.regular_id(domain, i) for i in range(spec.articles_per_portal)
               if portal.authors[i % len(portal.authors)][1] == path)  # fmt: skip
    elif path == TOPIC_PATH:
        heading = "Nachrichten"
        ids = (spec.regular_id(domain, i) for i in range(0, spec.articles_per_portal, 7))
    elif LISTING_PATH.match(path):
        heading, ids = path.strip("/").split("/")[-1].title(), islice(spec.regular_ids(domain), 10)
    else:
        return None
    metas: list[ArticleMeta] = [
        m for m in (spec.article_on(domain, i) for i in islice(ids, LISTING_SIZE)) if m
    ]
    return _ok(pages.render_listing(spec, domain, heading, path, metas, extra), HTML)
