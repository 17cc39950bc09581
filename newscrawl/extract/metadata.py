"""Metadata read straight from the parsed page: JSON-LD, the Ippen dataLayer, meta tags.

Read by hand rather than through trafilatura's ``extract_metadata`` because these
three sources are exact and cheap (a few XPath lookups), while trafilatura's heuristics
cost several milliseconds and cannot know the network's dataLayer. Each source is read
defensively: a malformed JSON-LD block or dataLayer costs that source, never the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from html import unescape
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.etree
import lxml.html

from newscrawl.extract import times
from newscrawl.extract.furniture import normalize_space
from newscrawl.extract.page_data import as_list, datalayer, jsonld_nodes, meta_tags, node_types

ARTICLE_TYPES = frozenset(
    {
        "Article",
        "NewsArticle",
        "ReportageNewsArticle",
        "AnalysisNewsArticle",
        "OpinionNewsArticle",
        "BackgroundNewsArticle",
        "ReviewNewsArticle",
        "AskPublicNewsArticle",
        "BlogPosting",
        "LiveBlogPosting",
        "Report",
    }
)
_CANONICAL = lxml.etree.XPath(
    "//link[contains(concat(' ', normalize-space(@rel), ' '), ' canonical ')]/@href"
)
_ONLINE_ID = re.compile(r"-(\d{7,9})\.html?$")
_PLACEHOLDER_AUTHOR = re.compile(r"^(?:[\w.-]+[\s-])?(?:Online-?)?Redaktion$", re.I)
_HOME_CRUMB = re.compile(r"\b(?:Startseite|Home|Homepage)\b", re.I)


@dataclass
class PageMetadata:
    """What the page says about itself; the extractor merges it with the DOM's reading."""

    headline: str | None = None
    og_title: str | None = None
    description: str | None = None
    authors: list[str] = field(default_factory=list)
    author_urls: list[str] = field(default_factory=list)
    authors_placeholder: bool = False
    published_at: datetime | None = None
    modified_at: datetime | None = None
    language: str | None = None
    section: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)
    image_url: str | None = None
    publisher: str | None = None
    paywall: bool | None = None
    cms_client_id: str | None = None
    article_id: str | None = None
    canonical_url: str | None = None
    is_article: bool = False
    schema_types: frozenset[str] = frozenset()
    """The JSON-LD types of the story (``NewsArticle``, ``LiveBlogPosting``, ...)."""
    layer_type: str | None = None
    """What the dataLayer calls the story (``story.type``), where it says."""


def read_metadata(tree: lxml.html.HtmlElement, url: str) -> PageMetadata:
    nodes = jsonld_nodes(tree)
    article = next((n for n in nodes if node_types(n) & ARTICLE_TYPES), {})
    crumbs = next((n for n in nodes if "BreadcrumbList" in node_types(n)), {})
    meta = meta_tags(tree)
    layer = datalayer(tree)
    canonical = _first(_CANONICAL(tree))
    md = PageMetadata(canonical_url=urljoin(url, canonical.strip()) if canonical else None)

    md.headline = _text(article.get("headline"))
    md.og_title = _first(meta.get("og:title"))
    md.description = (
        _text(article.get("description"))
        or _first(meta.get("og:description"))
        or _first(meta.get("description"))
    )
    md.authors, md.author_urls, md.authors_placeholder = _authors(article.get("author"))
    layer_published, layer_modified = times.layer_times(layer)
    md.published_at = (
        parse_date(article.get("datePublished"))
        or layer_published
        or parse_date(_first(meta.get("article:published_time")))
    )
    md.modified_at = (
        parse_date(article.get("dateModified"))
        or layer_modified
        or parse_date(
            _first(meta.get("article:modified_time")) or _first(meta.get("og:updated_time"))
        )
    )
    md.language = (
        _text(tree.get("lang"))
        or _text(article.get("inLanguage"))
        or _first(meta.get("content-language"))
    )
    page_urls = {u for u in (url, md.canonical_url, _text(article.get("mainEntityOfPage"))) if u}
    md.section = _breadcrumb(crumbs, page_urls, md.headline) or _nonempty(
        meta.get("article:section", [])[:1]
    )
    md.keywords = _dedupe(_keywords(article.get("keywords")) + meta.get("article:tag", []))
    md.entities = [e for e in map(_entity, as_list(article.get("mentions"))) if e]
    md.image_url = _image(article.get("image")) or _first(meta.get("og:image"))
    md.publisher = _publisher(article.get("publisher")) or _site_name(meta)
    md.paywall = _paywall(layer, article)
    cid = layer.get("cms.cid")
    md.cms_client_id = str(cid) if cid not in (None, "") else None
    md.article_id = _article_id(layer, url, md.canonical_url)
    md.is_article = bool(article) or _first(meta.get("og:type")) == "article"
    md.schema_types = frozenset(node_types(article) & ARTICLE_TYPES)
    layer_type = layer.get("story.type")
    md.layer_type = normalize_space(layer_type) or None if isinstance(layer_type, str) else None
    return md


def parse_date(value: Any) -> datetime | None:
    """ISO 8601 from JSON-LD or meta tags as an aware datetime; None when unreadable."""
    return times.parse_date(_text(value))


def _authors(value: Any) -> tuple[list[str], list[str], bool]:
    names: list[str] = []
    urls: list[str] = []
    placeholder = False
    for person in as_list(value):
        person_names = as_list(person.get("name")) if isinstance(person, dict) else [person]
        for raw in person_names:
            name = clean_author(_text(raw) or "")
            if _PLACEHOLDER_AUTHOR.match(name):
                placeholder = True
            elif name and name not in names:
                names.append(name)
        url = _text(person.get("url")) if isinstance(person, dict) else None
        if url and url not in urls:
            urls.append(url)
    return names, urls, placeholder and not names


def clean_author(name: str) -> str:
    """ "vonChristian Schulz", "Von: Simone Jung" → the name alone."""
    return normalize_space(re.sub(r"^\s*von\b\s*:?\s*|^\s*von(?=[A-ZÄÖÜ])", "", name, flags=re.I))


def _breadcrumb(crumbs: dict[str, Any], page_urls: set[str], headline: str | None) -> list[str]:
    items = [i for i in as_list(crumbs.get("itemListElement")) if isinstance(i, dict)]
    items.sort(key=lambda i: i.get("position") if isinstance(i.get("position"), int) else 0)
    page_paths = {urlsplit(u).path for u in page_urls}
    names: list[str] = []
    for item in items:
        name = _text(item.get("name"))
        target = item.get("item")
        target_url = (
            _text(target.get("@id") or target.get("url"))
            if isinstance(target, dict)
            else _text(target)
        )
        path = urlsplit(target_url or "").path
        if not name or _HOME_CRUMB.search(name) or (target_url and path in ("", "/")):
            continue
        if (target_url and path in page_paths) or name == headline:
            continue  # the article itself closes the trail
        names.append(name)
    return names


def _keywords(value: Any) -> list[str]:
    if isinstance(value, str):
        return _nonempty(unescape(value).split(","))
    return _nonempty(_text(v) or "" for v in as_list(value))


def _entity(node: Any) -> dict[str, Any] | None:
    if not isinstance(node, dict) or not _text(node.get("name")):
        return None
    types = sorted(node_types(node))
    return {
        "name": _text(node.get("name")),
        "type": types[0] if types else None,
        "id": _text(node.get("@id")),
        "same_as": _nonempty(_text(s) or "" for s in as_list(node.get("sameAs"))),
    }


def _image(value: Any) -> str | None:
    for item in as_list(value):
        url = (
            _text(item.get("url") or item.get("contentUrl"))
            if isinstance(item, dict)
            else _text(item)
        )
        if url:
            return url
    return None


def _publisher(value: Any) -> str | None:
    for item in as_list(value):
        name = _text(item.get("name")) if isinstance(item, dict) else _text(item)
        if name:
            return name
    return None


def _site_name(meta: dict[str, list[str]]) -> str | None:
    name = _first(meta.get("og:site_name"))
    return name if name and "://" not in name else None


def _paywall(layer: dict[str, Any], article: dict[str, Any]) -> bool | None:
    flag = layer.get("story.isPaywallContent")
    if isinstance(flag, bool):
        return flag
    free = article.get("isAccessibleForFree")
    if isinstance(free, str):
        free = {"true": True, "false": False}.get(free.strip().lower())
    return (not free) if isinstance(free, bool) else None


def _article_id(layer: dict[str, Any], url: str, canonical: str | None) -> str | None:
    online_id = layer.get("story.onlineId")
    if isinstance(online_id, int | str) and str(online_id).isdigit():
        return str(online_id)
    for candidate in (url, canonical):
        match = _ONLINE_ID.search(urlsplit(candidate or "").path)
        if match:
            return match.group(1)
    return None


def _text(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("@id") or value.get("url") or value.get("name")
    if isinstance(value, list):
        value = value[0] if value else None
    if not isinstance(value, str):
        return None
    return normalize_space(unescape(value)) or None


def _first(values: list[str] | None) -> str | None:
    return values[0] if values else None


def _nonempty(values: Any) -> list[str]:
    return [v for v in (normalize_space(str(v)) for v in values) if v]


def _dedupe(values: list[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        if value.casefold() not in seen:
            seen.add(value.casefold())
            out.append(value)
    return out
