"""The one item that flows spider → pipelines → database.

The spider fills the *fetch* fields; the extract pipeline fills the *article*
fields from ``html`` and then drops ``html`` (it is large, and nothing after
extraction needs it). The store receives ``dict(ItemAdapter(item))``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any


@dataclass
class ArticleItem:
    # --- fetch fields, set by the spider -------------------------------------------
    url: str
    """Canonical URL of the story: the page's ``rel=canonical`` when it names a
    portal of the registry, else the fetched URL; always in canonical form."""
    site: str
    """Registry domain (e.g. ``"fr.de"``) of ``url``."""
    fetched_url: str
    """Canonical form of the URL the page was actually served under (after redirects)."""
    fetched_site: str
    """Registry domain of ``fetched_url``; differs from ``site`` for a syndicated copy."""
    article_id: str | None
    """The network's online id, from the URL grammar (the extractor confirms it)."""
    fetched_at: datetime
    """When the response arrived, timezone-aware UTC."""
    html: bytes | str | None = None
    """The page as served (bytes; a decoded ``str`` is taken too); dropped by the
    extract pipeline, whose worker decodes it with ``encoding``."""
    encoding: str | None = None
    """Scrapy's encoding of the response (HTTP header, BOM, ``<meta>``, else inferred)."""
    external_canonical: str | None = None
    """A ``rel=canonical`` that points outside the registry (recorded, not followed)."""
    redirected_from: list[dict[str, str]] = field(default_factory=list)
    """Network URLs that redirected to ``fetched_url`` (old slugs): ``{"url", "site"}``;
    publications of the story too, so later runs know them."""
    source_lastmod: datetime | None = None
    """The date the sitemap or feed gave the URL when it was fetched; the next run
    fetches the URL again only when its source dates it later."""
    http_etag: str | None = None
    http_last_modified: str | None = None

    # --- article fields, set by the extract pipeline --------------------------------
    title: str | None = None
    seo_title: str | None = None
    kicker: str | None = None
    lead: str | None = None
    text: str | None = None
    description: str | None = None
    authors: list[str] = field(default_factory=list)
    author_urls: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    modified_at: datetime | None = None
    language: str | None = None
    section: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)
    image_url: str | None = None
    image_caption: str | None = None
    image_credit: str | None = None
    publisher: str | None = None
    word_count: int | None = None
    paywall: bool | None = None
    cms_client_id: str | None = None
    links: list[dict[str, str]] = field(default_factory=list)
    """Body links to other network articles: ``{"url": canonical, "site": domain}``."""
    boxes: list[dict[str, Any]] = field(default_factory=list)
    """Fact boxes of the story: ``{"title": str | None, "text": str}`` each, in page order."""
    tables: list[dict[str, Any]] = field(default_factory=list)
    """Tables of the story: ``{"caption": str | None, "rows": [[cell, ...], ...]}``, the
    header row first."""
    ticker: list[dict[str, Any]] = field(default_factory=list)
    """Live-ticker entries, newest first: ``{"time": ISO 8601 with offset or None,
    "headline": chapter heading or None, "text": str}``; empty for a story that is no ticker."""
    story_type: str | None = None
    """``article``, ``ticker``, or what JSON-LD or the dataLayer names more exactly."""
    extractor_version: str | None = None
    """``newscrawl.extract.EXTRACTOR_VERSION`` of the extraction that filled these fields."""
    simhash: int | None = None
    """SimHash of ``text`` for near-duplicate detection, computed in the extraction
    worker (CPU there runs on every core; the store's writer is one thread)."""


_NAMES = [f.name for f in fields(ArticleItem)]
ARTICLE_FIELDS: tuple[str, ...] = tuple(
    name for name in _NAMES[_NAMES.index("title") :] if name != "links"
)
"""The fields the extractor fills (the "article fields" above but ``links``, which the
extract pipeline builds from the page's hrefs): the one list the pipeline and
re-extraction share."""
