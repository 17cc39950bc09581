"""Reading a feed (RSS 0.9x/2.0, RSS 1.0/RDF, Atom) one item at a time, from its bytes.

Why not Scrapy's selector: it builds the whole tree before the first link is followed,
so a feed of 100,000 items took 563 MB and two minutes before the first article request.
lxml's ``iterparse`` hands over each item as it is read and lets it go after; the spider
stops reading at its cap, so memory and time are bounded by the cap, not by the feed.
Entities are never expanded and nothing is fetched from the network (a DTD, an
external entity): a feed is data, not a program.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from io import BytesIO

import lxml.etree

FEED_ROOTS = frozenset({"rss", "RDF", "feed"})
_ITEMS = ("{*}item", "{*}entry", "item", "entry")
_DATES = frozenset({"date", "pubDate", "updated", "published"})
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)
_PROLOG_BYTES = 65536
"""Where a DTD's declarations are looked for: the prolog, before the root element."""


def _parse(body: bytes, **kwargs: object) -> lxml.etree.iterparse:
    return lxml.etree.iterparse(
        BytesIO(body), recover=True, resolve_entities=False, no_network=True,
        huge_tree=False, remove_comments=True, remove_pis=True, **kwargs,
    )  # fmt: skip


def declares_entities(body: bytes) -> bool:
    """An XML document that declares entities: how a "billion laughs" bomb starts.

    Neither feeds nor sitemaps need a DTD of their own; such a document is refused
    (the parsers here never expand entities anyway, so this is about a clear reason).
    """
    return _ENTITY_DECLARATION.search(body, 0, _PROLOG_BYTES) is not None


def feed_root(body: bytes) -> str | None:
    """Local name of the document's root element if it is a feed's, else ``None``."""
    try:
        for _, element in _parse(body, events=("start",)):
            name = lxml.etree.QName(element).localname
            return name if name in FEED_ROOTS else None
    except lxml.etree.XMLSyntaxError:
        return None
    return None


def feed_items(body: bytes) -> Iterator[tuple[str, str | None]]:
    """(link, date) of each item or entry, in feed order; elements freed as they pass."""
    try:
        for _, item in _parse(body, events=("end",), tag=_ITEMS):
            link, date = "", None
            for child in item:
                if not isinstance(child.tag, str):
                    continue
                name = lxml.etree.QName(child).localname
                if name == "link" and not link:
                    link = (child.text or child.get("href") or "").strip()
                elif name in _DATES and date is None:
                    date = (child.text or "").strip() or None
            item.clear()
            while item.getprevious() is not None:  # the items already handed over
                del item.getparent()[0]
            yield link, date
    except lxml.etree.XMLSyntaxError:
        return  # recover=True: only a document that stops being XML at all ends here
