"""The visible text of an element: what a reader sees, without scripts, figures or furniture.

Shared by the layout walker (``body.py``) and the readers of fact boxes and tables
(``parts.py``).
"""

from __future__ import annotations

from typing import Any

import lxml.html

from newscrawl.extract.furniture import has_furniture_class, normalize_space

SKIP_TAGS = frozenset(
    {"script", "style", "noscript", "button", "svg", "figure", "iframe", "template"}
)
"""Tags whose subtree is never text."""
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


def element_text(el: lxml.html.HtmlElement) -> str:
    """Visible text of an element, without scripts, buttons, figures or furniture inside it."""
    parts: list[str] = []
    _collect_text(el, parts)
    return normalize_space("".join(parts))


def _collect_text(el: Any, parts: list[str]) -> None:
    if el.text and isinstance(el.tag, str):
        parts.append(el.text)
    for child in el:
        tag = child.tag
        if (
            isinstance(tag, str)
            and tag not in SKIP_TAGS
            and not has_furniture_class(child.get("class"))
        ):
            if tag == "br" or tag in _HEADINGS:
                parts.append(" ")
            _collect_text(child, parts)
        if child.tail:
            parts.append(child.tail)
