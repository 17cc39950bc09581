"""Article extraction for the Ippen Digital network: pure functions from (HTML, URL) to fields.

The extract pipeline calls :func:`extract_article` in worker processes, so everything
here is module-level and stateless. Each page is parsed once with lxml; metadata comes
from the page's own structured data (``metadata.py``), the body from the known layouts
or trafilatura (``body.py``), and furniture is stripped on the way (``furniture.py``).

Sources, most trusted first: JSON-LD ``NewsArticle`` (also as ``mainEntity`` of a
``WebPage``), the Ippen dataLayer, Open Graph / ``article:*`` meta tags, the displayed
DOM (headline, byline), and last trafilatura's metadata heuristics (never the title).
"""

from __future__ import annotations

import contextlib
import html
import re
from typing import Any

import lxml.etree
import lxml.html
import trafilatura.metadata
from htmldate import find_date
from trafilatura.settings import set_date_params
from trafilatura.utils import line_processing

from newscrawl.extract import ticker
from newscrawl.extract.body import Story, find_layout, read_story
from newscrawl.extract.decode import decode_html, parse_html
from newscrawl.extract.errors import ExtractionError
from newscrawl.extract.furniture import CLOSING_CREDIT, normalize_space
from newscrawl.extract.metadata import PageMetadata, clean_author, parse_date, read_metadata
from newscrawl.extract.times import displayed_stamps, with_stamps
from newscrawl.extract.visible import element_text

__all__ = ["EXTRACTOR_VERSION", "FIELDS", "ExtractionError", "extract_article"]

EXTRACTOR_VERSION = "2026.12.1"
"""Stored with every story (``articles.extractor_version``), so stories extracted by an
older extractor can be found and extracted again. Bump it (year.month.serial) whenever
the output of :func:`extract_article` changes for some page: a field added, removed, or
filled differently."""

FIELDS: tuple[str, ...] = (
    "title", "seo_title", "kicker", "lead", "text", "description", "authors", "author_urls",
    "published_at", "modified_at", "language", "section", "keywords", "entities", "image_url",
    "image_caption", "image_credit", "publisher", "word_count", "paywall", "cms_client_id",
    "article_id", "canonical_url", "body_links", "boxes", "tables", "ticker", "story_type",
)  # fmt: skip
_NAME_SEPARATORS = re.compile(r"\s*(?:,|;|\bund\b|&)\s*")
_TITLE = lxml.etree.XPath("//title")


def extract_article(html: str | bytes, url: str) -> dict[str, Any]:
    """Extract one article page; raises :class:`ExtractionError` for anything else.

    ``html`` as bytes is decoded honouring a declared charset (UTF-8 when none is
    declared and the bytes are valid UTF-8, else Windows-1252). A document without a
    closing ``</body>``/``</html>`` counts as truncated. Returns the keys of
    :data:`FIELDS` exactly.
    """
    try:
        return _extract(html, url)
    except ExtractionError:
        raise
    except Exception as exc:  # a parser or library failure must not escape as another type
        raise ExtractionError("unparsable", f"{type(exc).__name__}: {exc}") from exc


def _extract(html: str | bytes, url: str) -> dict[str, Any]:
    tree = parse_html(decode_html(html))
    md = read_metadata(tree, url)
    known = find_layout(tree)
    if known is None and not md.is_article:
        raise ExtractionError("not_article", "no article markup, JSON-LD or og:type=article")
    story = read_story(tree, url, known)
    text = "\n\n".join(story.paragraphs)
    if not text:
        raise ExtractionError("no_text", f"no body text found ({story.layout} layout)")
    title = story.title or md.og_title or md.headline or _page_title(tree)
    if md.published_at is None or md.modified_at is None:
        stamps = displayed_stamps(known[1] if known else tree)
        md.published_at, md.modified_at = with_stamps(md.published_at, md.modified_at, stamps)
    authors, author_urls = _authors(md, story)
    if not (md.published_at and authors and md.description):
        _fill_from_trafilatura(md, tree, url, authors)
    live = ticker.is_live(md.schema_types, md.layer_type)
    entries = ticker.read_ticker(story.blocks(), md.modified_at, md.published_at, live)
    return {
        "title": title,
        "seo_title": md.headline if md.headline and md.headline != title else None,
        "kicker": story.kicker,
        "lead": story.lead,
        "text": text,
        "description": md.description,
        "authors": authors,
        "author_urls": author_urls,
        "published_at": md.published_at,
        "modified_at": md.modified_at,
        "language": md.language,
        "section": md.section,
        "keywords": md.keywords,
        "entities": md.entities,
        "image_url": md.image_url,
        "image_caption": story.image_caption,
        "image_credit": story.image_credit,
        "publisher": md.publisher,
        "word_count": len(text.split()),
        "paywall": md.paywall,
        "cms_client_id": md.cms_client_id,
        "article_id": md.article_id,
        "canonical_url": md.canonical_url,
        "body_links": story.links,
        "boxes": story.boxes,
        "tables": story.tables,
        "ticker": entries,
        "story_type": ticker.story_type(md.schema_types, md.layer_type, bool(entries)),
    }


def _authors(md: PageMetadata, story: Story) -> tuple[list[str], list[str]]:
    """JSON-LD names, else the displayed byline, else the closing agency line."""
    urls = md.author_urls or story.byline_urls
    if md.authors:
        return md.authors, urls
    if not md.authors_placeholder:
        names = _split_names(story.byline_names)
        if names:
            return names, urls
    # The older layout credits "Redaktion" in JSON-LD and names the real source in a
    # closing line such as "(FR mit dpa)".
    credit = CLOSING_CREDIT.search(story.paragraphs[-1]) if story.paragraphs else None
    return ([normalize_space(credit.group("credit"))] if credit else []), urls


def _split_names(bylines: list[str]) -> list[str]:
    names: list[str] = []
    for line in bylines:
        for name in _NAME_SEPARATORS.split(clean_author(line)):
            name = clean_author(name)
            if name and name.casefold() not in ("schließen",) and name not in names:
                names.append(name)
    return names


def _fill_from_trafilatura(
    md: PageMetadata, tree: lxml.html.HtmlElement, url: str, authors: list[str]
) -> None:
    """Last tier: trafilatura's heuristics, only for what the page's own data left empty.

    The steps of ``trafilatura.metadata.extract_metadata`` for these three fields, in its
    order, without the rest: its categories, tags and licence (read from the whole tree)
    were two thirds of its cost, and it ran on every page without a named author, a
    third of a worker's time in a profile.
    """
    found = trafilatura.metadata.examine_meta(tree)
    if found.author and " " not in found.author:  # a single word is no name (as there)
        found.author = None
    with contextlib.suppress(Exception):  # guarded there too (bugs in its JSON-LD code)
        found = trafilatura.metadata.extract_meta_json(tree, found)
    if md.published_at is None:
        date_params = {**set_date_params(extensive=True), "url": found.url or url}
        md.published_at = parse_date(find_date(tree, **date_params))
    if not authors:
        author = found.author or trafilatura.metadata.extract_author(tree)
        if author:
            names = _trimmed(author).split(";")
            authors.extend(a for a in map(clean_author, names) if a)
    if not md.description and found.description:
        md.description = normalize_space(_trimmed(found.description))


def _trimmed(value: str) -> str:
    """What ``Document.clean_and_trim`` makes of a string field at the end of
    ``extract_metadata``."""
    return line_processing(html.unescape(value)) or ""


def _page_title(tree: lxml.html.HtmlElement) -> str | None:
    titles = _TITLE(tree)
    return (element_text(titles[0]) or None) if titles else None
