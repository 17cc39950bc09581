"""Fact boxes and tables of a story: their own fields, not body text.

The current layout marks them ``.id-StoryElement-factBox`` (``-headline``, ``-paragraph``)
and ``.id-StoryElement-table`` (``-table-wrapper``, ``-table-row``, ``-table-cell``, or
plain ``tr``/``td``). The layout walker in ``body.py`` meets them among the story's blocks
and hands each container here, so the story subtree is searched once.
"""

from __future__ import annotations

import re
from typing import Any

import lxml.html

from newscrawl.extract.furniture import clean_paragraph, has_furniture_class, normalize_space
from newscrawl.extract.visible import SKIP_TAGS, element_text

_CONTAINER = re.compile(r"(?:^|\s)id-StoryElement-(factBox|table)(?![\w-])")
_BOX_TITLE = re.compile(r"id-StoryElement-factBox-headline(?![\w-])")
_BOX_BLOCK = re.compile(r"id-StoryElement-factBox-(?:paragraph|list)(?![\w-])")
_ROW = re.compile(r"id-StoryElement-table-row(?![\w-])")
_CELL = re.compile(r"id-StoryElement-table-cell(?![\w-])")
_CAPTION = re.compile(r"id-StoryElement-table-(?:headline|caption|title)(?![\w-])")
_LISTS = ("ul", "ol")


def part_kind(class_attr: str | None) -> str | None:
    """``"box"`` or ``"table"`` for the container of a fact box or table, else None."""
    if not class_attr or "id-StoryElement-" not in class_attr:
        return None
    match = _CONTAINER.search(class_attr)
    if match is None:
        return None
    return "box" if match.group(1) == "factBox" else "table"


def read_part(
    kind: str,
    container: lxml.html.HtmlElement,
    boxes: list[dict[str, Any]],
    tables: list[dict[str, Any]],
) -> None:
    """Append the part in ``container`` to its list; an empty one is left out."""
    if kind == "box":
        box = read_box(container)
        if box["text"] or box["title"]:
            boxes.append(box)
    else:
        table = read_table(container)
        if table["rows"]:
            tables.append(table)


def read_box(box: lxml.html.HtmlElement) -> dict[str, Any]:
    """``{"title": str | None, "text": str}``: paragraphs apart by a blank line, list items
    by a line break."""
    title: str | None = None
    paragraphs: list[str] = []
    taken: list[lxml.html.HtmlElement] = []
    for el in _elements(box):
        cls = el.get("class") or ""
        if title is None and _BOX_TITLE.search(cls):
            title = element_text(el) or None
            taken.append(el)
        elif (_BOX_BLOCK.search(cls) or el.tag in _LISTS) and not _within(el, taken, box):
            taken.append(el)
            text = _block_text(el)
            if text:
                paragraphs.append(text)
    if not paragraphs:  # no marked paragraphs: the box's text without its title
        rest = element_text(box)
        if title and rest.startswith(title):
            rest = rest[len(title) :]
        paragraphs = [p for p in [clean_paragraph(rest)] if p]
    return {"title": title, "text": "\n\n".join(paragraphs)}


def read_table(table: lxml.html.HtmlElement) -> dict[str, Any]:
    """``{"caption": str | None, "rows": [[cell, ...], ...]}``, the header row first."""
    caption: str | None = None
    head: list[list[str]] = []
    body: list[list[str]] = []
    for el in _elements(table):
        if caption is None and (el.tag == "caption" or _CAPTION.search(el.get("class") or "")):
            caption = element_text(el) or None
        elif el.tag == "tr" or _ROW.search(el.get("class") or ""):
            cells = [normalize_space(element_text(c)) for c in _cells(el)]
            if any(cells):
                in_head = next(el.iterancestors("thead"), None) is not None
                (head if in_head else body).append(cells)
    return {"caption": caption, "rows": head + body}


def _cells(row: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    cells = [c for c in row if c.tag in ("td", "th") or _CELL.search(c.get("class") or "")]
    if cells:
        return cells
    return [c for c in row.iter() if c is not row and _CELL.search(c.get("class") or "")]


def _elements(root: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    """The elements under ``root`` in page order, without furniture subtrees."""
    out: list[lxml.html.HtmlElement] = []
    stack = list(reversed(root))
    while stack:
        el = stack.pop()
        if not isinstance(el.tag, str) or el.tag in SKIP_TAGS:
            continue
        if has_furniture_class(el.get("class")):
            continue
        out.append(el)
        stack.extend(reversed(el))
    return out


def _within(
    el: lxml.html.HtmlElement, taken: list[lxml.html.HtmlElement], stop: lxml.html.HtmlElement
) -> bool:
    for ancestor in el.iterancestors():
        if ancestor is stop:
            return False
        if ancestor in taken:
            return True
    return False


def _block_text(el: lxml.html.HtmlElement) -> str:
    items = el.findall(".//li") if el.tag in _LISTS or el.find(".//li") is not None else []
    if items:
        return "\n".join(
            line for line in (clean_paragraph(element_text(li)) for li in items) if line
        )
    return clean_paragraph(element_text(el))


def parts_text(boxes: list[dict[str, Any]], tables: list[dict[str, Any]]) -> str:
    """The words of the boxes and tables as one text, for the full-text search: box
    titles and texts, table captions, one line per row with its cells apart by " | "."""
    chunks: list[str] = []
    for box in boxes:
        chunks.extend(part for part in (box.get("title"), box.get("text")) if part)
    for table in tables:
        lines = [table["caption"]] if table.get("caption") else []
        lines.extend(" | ".join(cell for cell in row if cell) for row in table.get("rows", []))
        chunks.append("\n".join(line for line in lines if line))
    return "\n\n".join(chunk for chunk in chunks if chunk)
