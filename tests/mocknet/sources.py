"""robots.txt, RSS 1.0 feeds, the news sitemap and the nested sitemap indexes of a portal.

Shapes follow the network: ``/rssfeed.rdf`` is RSS 1.0 (RDF), ``/news.xml`` a Google news
sitemap, ``/sitemap-index.xml`` an index whose last entry is another index holding a
gzip-compressed archive sitemap (the oldest articles).
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterable
from itertools import islice
from xml.sax.saxutils import escape

from tests.mocknet import specials
from tests.mocknet.spec import (
    DISALLOWED_PREFIX,
    FEED_SIZE,
    NEWS_SITEMAP_SIZE,
    ArticleMeta,
    NetworkSpec,
)
from tests.mocknet.state import StateFile, modified_at

Entry = tuple[str, ArticleMeta]
"""(listed URL, the article it leads to); they differ for the old-slug redirect."""


def _entry(spec: NetworkSpec, domain: str, url: str) -> Entry:
    article_id = url.rsplit("-", 1)[1].removesuffix(".html")
    meta = spec.article_on(domain, article_id)
    assert meta is not None, url
    return url, meta


def _regular(spec: NetworkSpec, ids: Iterable[str], domain: str) -> list[Entry]:
    metas = [spec.article_on(domain, article_id) for article_id in ids]
    return [(m.url, m) for m in metas if m is not None]


def robots(spec: NetworkSpec, domain: str) -> str:
    base = spec.base_url(domain)
    return (
        f"User-agent: *\nDisallow: {DISALLOWED_PREFIX}\nDisallow: /sso/\n\n"
        f"Sitemap: {base}/sitemap-index.xml\nSitemap: {base}/news.xml\n"
    )


def feed_entries(spec: NetworkSpec, domain: str, section: str | None) -> list[Entry]:
    regular = _regular(spec, islice(spec.regular_ids(domain, section), FEED_SIZE), domain)
    if section is not None:
        return regular
    return [_entry(spec, domain, u) for u in specials.feed_urls(spec, domain)] + regular


def rss(spec: NetworkSpec, domain: str, feed_path: str, entries: list[Entry]) -> str:
    base, portal = spec.base_url(domain), spec.portal(domain)
    seq = "".join(f'<rdf:li rdf:resource="{escape(url)}"/>' for url, _ in entries)
    items = "".join(
        f'<item rdf:about="{escape(url)}"><title>{escape(m.title)}</title>'
        f"<link>{escape(url)}</link><description>{escape(m.lead)}</description>"
        f"<dc:creator>{escape(m.author[0])}</dc:creator>"
        f"<dc:date>{m.published.isoformat()}</dc:date></item>\n"
        for url, m in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
        f'<channel rdf:about="{base}{feed_path}"><title>{escape(portal.name)}</title>'
        f"<link>{base}/</link><description>Nachrichten von {escape(portal.name)}</description>"
        f"<items><rdf:Seq>{seq}</rdf:Seq></items></channel>\n{items}</rdf:RDF>\n"
    )


def news_entries(spec: NetworkSpec, domain: str) -> list[Entry]:
    ids = islice(spec.regular_ids(domain), NEWS_SITEMAP_SIZE)
    extra = [_entry(spec, domain, u) for u in specials.feed_urls(spec, domain)]
    return extra + _regular(spec, ids, domain)


def news_sitemap(spec: NetworkSpec, domain: str, entries: list[Entry], state: StateFile) -> str:
    name = escape(spec.portal(domain).name)
    urls = "".join(
        f"<url><loc>{escape(url)}</loc><lastmod>{_lastmod(m, state)}</lastmod><news:news>"
        f"<news:publication><news:name>{name}</news:name><news:language>de</news:language>"
        f"</news:publication><news:publication_date>{m.published.isoformat()}"
        f"</news:publication_date><news:title>{escape(m.title)}</news:title></news:news></url>\n"
        for url, m in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n'
        f"{urls}</urlset>\n"
    )


def _lastmod(meta: ArticleMeta, state: StateFile) -> str:
    return modified_at(meta, state.get(meta.article_id)).isoformat()


# --- sitemaps -------------------------------------------------------------------------


def sitemap_index(spec: NetworkSpec, domain: str) -> list[str]:
    """Child paths of ``/sitemap-index.xml``: plain chunks, the nested index, broken ones."""
    plain = [f"/sitemaps/articles-{k}.xml" for k in range(1, len(spec.sitemap_chunks(domain)))]
    children = [*plain, "/sitemaps/archive-index.xml"]
    if spec.base_url(domain) + "/sitemaps/sitemap-broken.xml" == spec.specials.malformed_sitemap:
        children.append("/sitemaps/sitemap-broken.xml")
    return children


ARCHIVE_CHILDREN = ["/sitemaps/archive-1.xml.gz"]


def child_lastmod(spec: NetworkSpec, domain: str, child: str, state: StateFile) -> str | None:
    """The newest lastmod inside a child sitemap, as a real index states it (none if broken)."""
    if child in ("/sitemaps/archive-index.xml", *ARCHIVE_CHILDREN):
        entries = chunk_entries(spec, domain, 0, archive=True)
    elif match := re.fullmatch(r"/sitemaps/articles-(\d+)\.xml", child):
        entries = chunk_entries(spec, domain, int(match.group(1)), archive=False)
    else:
        return None
    newest = max((modified_at(m, state.get(m.article_id)) for _, m in entries), default=None)
    return newest.isoformat() if newest else None


def index_xml(spec: NetworkSpec, domain: str, children: list[str], state: StateFile) -> str:
    base = spec.base_url(domain)
    entries = ""
    for child in children:
        lastmod = child_lastmod(spec, domain, child, state)
        stamp = f"<lastmod>{lastmod}</lastmod>" if lastmod else ""
        entries += f"<sitemap><loc>{base}{child}</loc>{stamp}</sitemap>\n"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{entries}</sitemapindex>\n"
    )


def chunk_entries(spec: NetworkSpec, domain: str, number: int, archive: bool) -> list[Entry]:
    """Entries of child sitemap ``articles-<number>`` (1-based) or of the gzip archive."""
    chunks = spec.sitemap_chunks(domain)
    chunk = chunks[-1] if archive else chunks[number - 1]
    entries = _regular(spec, (spec.regular_id(domain, i) for i in chunk), domain)
    if archive and spec.specials.gzip_only.startswith(spec.base_url(domain) + "/"):
        entries.append(_entry(spec, domain, spec.specials.gzip_only))
    if not archive and number == 1:
        entries = [_entry(spec, domain, u) for u in specials.sitemap_urls(spec, domain)] + entries
    return entries


def urlset(entries: list[Entry], state: StateFile) -> str:
    urls = "".join(
        f"<url><loc>{escape(url)}</loc><lastmod>{_lastmod(m, state)}</lastmod></url>\n"
        for url, m in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{urls}</urlset>\n"
    )


def gzipped(body: str) -> bytes:
    # mtime=0: the same sitemap compresses to the same bytes, so its ETag is stable
    return gzip.compress(body.encode("utf-8"), mtime=0)


MALFORMED_SITEMAP = (
    "<!DOCTYPE html><html><body><h1>Wartungsarbeiten</h1><p>Die Sitemap ist "
    "vorübergehend nicht verfügbar.</p><urlset><url><loc>"
)
"""Not XML: an HTML maintenance page that breaks off inside a ``<urlset>``."""
