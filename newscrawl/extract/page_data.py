"""The page's own data, raw: its JSON-LD objects, its meta tags and the Ippen dataLayer.

Each is read defensively (``metadata.py`` makes fields of them): a malformed JSON-LD
block costs that block, a broken dataLayer entry that entry, never the page.
"""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

import lxml.etree
import lxml.html

from newscrawl.extract.furniture import normalize_space

_JSONLD = lxml.etree.XPath("//script[contains(@type, 'ld+json')]")
_META = lxml.etree.XPath("//meta[@content]")
_DATALAYER_SCRIPTS = lxml.etree.XPath("//script[contains(., 'de.ippen-digital.')]")
# One key/value at a time, so one broken entry does not lose the others.
_DATALAYER_PAIR = re.compile(
    r'"de\.ippen-digital\.([\w.]+)"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|true|false|null)'
)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


def jsonld_nodes(tree: lxml.html.HtmlElement) -> list[dict[str, Any]]:
    """Every typed object of every JSON-LD block, outer before inner (``mainEntity`` too)."""
    nodes: list[dict[str, Any]] = []
    for script in _JSONLD(tree):
        data = _load_json(script.text or "")
        if data is not None:
            _collect(data, nodes, depth=0)
    return nodes


def _load_json(raw: str) -> Any:
    for candidate in (raw, _TRAILING_COMMA.sub(r"\1", raw.replace("\n", " ").replace("\t", " "))):
        try:
            return json.loads(candidate, strict=False)
        except ValueError:
            continue
    return None


def _collect(data: Any, out: list[dict[str, Any]], depth: int) -> None:
    if depth > 6:
        return
    if isinstance(data, list):
        for item in data:
            _collect(item, out, depth + 1)
    elif isinstance(data, dict):
        if "@type" in data:
            out.append(data)
        for value in data.values():
            if isinstance(value, dict | list):
                _collect(value, out, depth + 1)


def node_types(node: dict[str, Any]) -> set[str]:
    return {t for t in as_list(node.get("@type")) if isinstance(t, str)}


def meta_tags(tree: lxml.html.HtmlElement) -> dict[str, list[str]]:
    tags: dict[str, list[str]] = {}
    for el in _META(tree):
        key = (el.get("property") or el.get("name") or el.get("http-equiv") or "").strip().lower()
        value = normalize_space(unescape(el.get("content", "")))
        if key and value:
            tags.setdefault(key, []).append(value)
    return tags


def datalayer(tree: lxml.html.HtmlElement) -> dict[str, Any]:
    layer: dict[str, Any] = {}
    for script in _DATALAYER_SCRIPTS(tree):
        for key, raw in _DATALAYER_PAIR.findall(script.text or ""):
            try:
                layer.setdefault(key, json.loads(raw))
            except ValueError:
                continue
    return layer


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
