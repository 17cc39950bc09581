"""The article as displayed: headline, kicker, lead, body paragraphs, byline, lead image.

For the network's two known layouts the story elements are walked directly, by class.
trafilatura's body extraction on the story subtree alone costs 3–7 ms a page (more
than the whole budget of this module) and, knowing nothing of the CMS, lets captions
and interstitial teasers through that the class names rule out exactly. Where a known
layout yields no paragraphs (a variant not seen yet), trafilatura gets that layout's
story subtree; on an unknown layout it gets the whole page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.etree
import lxml.html
import trafilatura

from newscrawl.extract.furniture import clean_paragraph, has_furniture_class, normalize_space
from newscrawl.extract.parts import part_kind, read_part
from newscrawl.extract.visible import SKIP_TAGS, element_text

XPath = lxml.etree.XPath
_H1 = XPath("//h1")
_CHAPTER = re.compile(r"\bid-StoryElement-chapterHeadline(?![\w-])")


@dataclass(frozen=True)
class Layout:
    """Where one CMS layout keeps each part of a story; XPaths after ``roots`` are relative."""

    name: str
    roots: tuple[XPath, ...]
    blocks: XPath
    headline: tuple[XPath, ...]
    kicker: XPath
    lead: XPath
    author_links: XPath
    byline: XPath
    caption: XPath
    credit: XPath | None = None
    block_classes: re.Pattern[str] | None = None
    """When set, ``blocks`` is a coarse match: a block needs a class matching this, or
    to be a list directly under the root."""


LAYOUTS: tuple[Layout, ...] = (
    Layout(  # current layout (2022–): id-Story-* / id-StoryElement-* classes
        name="ippen-story",
        roots=(
            XPath("//article[contains(concat(' ', normalize-space(@class), ' '), ' idjs-Story ')]"),
            XPath("(//p[contains(@class, 'id-StoryElement-paragraph')])[1]/.."),
        ),
        # One cheap test in XPath, the exact kinds in Python: five contains() per
        # element cost three times as much (0.21 -> 0.07 ms on the 2024 fixture).
        blocks=XPath(".//*[contains(@class, 'id-StoryElement-')] | ./ul | ./ol"),
        block_classes=re.compile(
            "id-StoryElement-(?:paragraph|crosshead|list|summary|quote|chapterHeadline|factBox"
            "|table)"
        ),
        headline=(XPath(".//h1[contains(@class, 'id-StoryElement-headline')]"), XPath(".//h1")),
        kicker=XPath(".//*[contains(@class, 'kicker') or contains(@class, 'Kicker')]"),
        lead=XPath(".//*[contains(@class, 'id-StoryElement-leadText')]"),
        author_links=XPath(".//*[contains(@class, 'id-Story-authors')]//a[@href]"),
        byline=XPath(".//*[contains(@class, 'id-Story-authors')]"),
        caption=XPath(".//figure[contains(@class, 'id-StoryElement-image')]//figcaption"),
    ),
    Layout(  # older layout (–2021): id-Article-* classes, headline in an h2
        name="ippen-article",
        roots=(XPath("(//div[contains(@class, 'id-Article-body')])[1]/.."),),
        blocks=XPath(
            ".//*[contains(@class, 'id-Article-body')]"
            "/*[contains(@class, 'id-Article-content-item')]"
        ),
        headline=(XPath(".//*[contains(@class, 'id-Article-headline')]"),),
        kicker=XPath(".//*[contains(@class, 'id-Article-kicker')]"),
        lead=XPath(".//*[contains(@class, 'id-Article-content-item-summary')]"),
        author_links=XPath(".//*[contains(@class, 'id-Article-author')]//a[@href]"),
        byline=XPath(".//*[contains(@class, 'id-Article-author')]"),
        caption=XPath(".//*[contains(@class, 'id-Mediabox-info-caption')]"),
        credit=XPath(".//*[contains(@class, 'id-Mediabox-info-copyright')]"),
    ),
)


@dataclass
class Story:
    layout: str
    title: str | None = None
    kicker: str | None = None
    lead: str | None = None
    paragraphs: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    byline_names: list[str] = field(default_factory=list)
    byline_urls: list[str] = field(default_factory=list)
    image_caption: str | None = None
    image_credit: str | None = None
    chapters: set[int] = field(default_factory=set)
    """Indexes of ``paragraphs`` that are chapter headings (of a live ticker)."""
    boxes: list[dict[str, Any]] = field(default_factory=list)
    tables: list[dict[str, Any]] = field(default_factory=list)

    def blocks(self) -> list[tuple[bool, str]]:
        """The paragraphs as ``(is_chapter_heading, text)``, in page order."""
        return [(i in self.chapters, text) for i, text in enumerate(self.paragraphs)]


def find_layout(tree: lxml.html.HtmlElement) -> tuple[Layout, lxml.html.HtmlElement] | None:
    """The known layout of the page and its story root, or None for an unknown layout."""
    for layout in LAYOUTS:
        root = _first_match(layout.roots, tree)
        if root is not None:
            return layout, root
    return None


def read_story(
    tree: lxml.html.HtmlElement,
    url: str,
    known: tuple[Layout, lxml.html.HtmlElement] | None,
) -> Story:
    """The story of the known layout found by :func:`find_layout`, else trafilatura's reading."""
    if known is None:
        story = Story(layout="generic", title=generic_title(tree))
        _fill_with_trafilatura(story, tree, url)
        return story
    layout, root = known
    story = _walk(layout, root, url)
    if not story.paragraphs:
        _fill_with_trafilatura(story, root, url)
    return story


def generic_title(tree: lxml.html.HtmlElement) -> str | None:
    """The displayed headline on an unknown layout: the h1 inside <article>, else the first."""
    headings = tree.xpath("//article//h1") or _H1(tree)
    for h1 in headings:
        text = element_text(h1)
        if text:
            return text
    return None


def _walk(layout: Layout, root: lxml.html.HtmlElement, url: str) -> Story:
    headline = _first_match(layout.headline, root)
    kicker_el = next((k for k in layout.kicker(root) if not _is_furniture(k, root)), None)
    story = Story(
        layout=layout.name,
        title=_headline_text(headline, kicker_el) if headline is not None else None,
        kicker=_text_or_none(kicker_el),
        lead=_text_or_none(_first_el(layout.lead(root))),
    )
    story.byline_names, story.byline_urls = _byline(layout, root, url)
    story.image_caption, story.image_credit = _caption(layout, root)
    skip = {story.title, story.lead, story.kicker}
    taken: set[lxml.html.HtmlElement] = set()
    for block in _blocks(layout, root):
        if _is_furniture(block, root, taken):
            continue
        taken.add(block)
        part = part_kind(block.get("class"))
        if part is not None:  # a fact box or a table: its own field, not body text
            read_part(part, block, story.boxes, story.tables)
            continue
        text = _block_text(block)
        if text and text not in skip:
            if _CHAPTER.search(block.get("class") or ""):
                story.chapters.add(len(story.paragraphs))
            story.paragraphs.append(text)
            story.links.extend(_hrefs(block, url))
    story.links = _dedupe(story.links)
    return story


def _blocks(layout: Layout, root: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    found = layout.blocks(root)
    kinds = layout.block_classes
    if kinds is None:
        return found
    return [
        b
        for b in found
        if kinds.search(b.get("class") or "") or (b.tag in ("ul", "ol") and b.getparent() is root)
    ]


def _block_text(block: lxml.html.HtmlElement) -> str:
    tag = block.tag
    items = block.xpath(".//li") if tag in ("ul", "ol", "div") else []
    if items:
        lines = (clean_paragraph(element_text(li)) for li in items if not _is_furniture(li, block))
        return "\n".join(line for line in lines if line)
    if tag == "div":
        return ""  # video, embed or ad container of the older layout
    return clean_paragraph(element_text(block))


def _headline_text(
    headline: lxml.html.HtmlElement, kicker: lxml.html.HtmlElement | None
) -> str | None:
    full = element_text(headline)
    if kicker is not None and any(a is headline for a in kicker.iterancestors()):
        # The kicker sits inside the h1: the headline is the rest of it.
        return normalize_space(full.replace(element_text(kicker), "", 1)) or None
    return full or None


def _byline(layout: Layout, root: lxml.html.HtmlElement, url: str) -> tuple[list[str], list[str]]:
    links = layout.author_links(root)
    names = [element_text(a) for a in links]
    urls = [urljoin(url, a.get("href", "")) for a in links]
    if not names:
        byline = _first_el(layout.byline(root))
        if byline is not None:
            names = [element_text(byline)]
    return [n for n in names if n], _dedupe([u for u in urls if u.startswith("http")])


def _caption(layout: Layout, root: lxml.html.HtmlElement) -> tuple[str | None, str | None]:
    caption = _text_or_none(_first_el(layout.caption(root)))
    credit = _text_or_none(_first_el(layout.credit(root))) if layout.credit else None
    if caption and "©" in caption and not credit:
        caption, _, credit = caption.partition("©")
    if credit:
        credit = normalize_space(credit.replace("©", "")) or None
    return (normalize_space(caption) or None) if caption else None, credit


def _fill_with_trafilatura(story: Story, subtree: lxml.html.HtmlElement, url: str) -> None:
    document = trafilatura.bare_extraction(
        subtree,
        url=url,
        include_comments=False,
        favor_precision=True,
        include_links=True,
        include_images=False,
        with_metadata=False,
        deduplicate=False,
    )
    if document is None:
        return
    body = document.body
    if body is None:
        return
    # Read the output tree, not ``document.text``: with links on, the text is Markdown.
    skip = {story.title, story.lead, story.kicker}
    for block in body:
        items = block.findall(".//item") if block.tag == "list" else [block]
        lines = (clean_paragraph("".join(item.itertext())) for item in items)
        text = "\n".join(line for line in lines if line)
        if text and text not in skip:
            story.paragraphs.append(text)
    links = (urljoin(url, ref.get("target", "")) for ref in body.iter("ref"))
    story.links = _dedupe([u for u in links if urlsplit(u).scheme in ("http", "https")])


def _is_furniture(
    el: lxml.html.HtmlElement,
    root: lxml.html.HtmlElement,
    taken: set[lxml.html.HtmlElement] | None = None,
) -> bool:
    """Inside a furniture subtree (or, given ``taken``, inside a block already read)."""
    if has_furniture_class(el.get("class")):
        return True
    for ancestor in el.iterancestors():
        if ancestor is root:
            return False
        if has_furniture_class(ancestor.get("class")) or ancestor.tag in SKIP_TAGS:
            return True
        if taken and ancestor in taken:
            return True
    return False


def _hrefs(block: lxml.html.HtmlElement, url: str) -> Iterator[str]:
    for a in block.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith("#"):
            continue
        absolute = urljoin(url, href)
        if urlsplit(absolute).scheme in ("http", "https"):
            yield absolute


def _first_match(paths: tuple[XPath, ...], node: lxml.html.HtmlElement) -> Any:
    for path in paths:
        found = _first_el(path(node))
        if found is not None:
            return found
    return None


def _first_el(found: Any) -> Any:
    return found[0] if isinstance(found, list) and found else None


def _text_or_none(el: lxml.html.HtmlElement | None) -> str | None:
    return (element_text(el) or None) if el is not None else None


def _dedupe(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))
