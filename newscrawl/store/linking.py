"""Which items of a batch are one story: union-find over URLs, ids and SimHash.

Pure: the items and the stored stories (``plan.Known``) in, the components out. The
result cannot depend on the batch's order: items are linked in a fixed order (by
fetch time, URL, ...), URLs and ids first, near-duplicates after; two stored stories
are never joined.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from newscrawl.store import dedup
from newscrawl.store.validate import Prepared
from newscrawl.urls import article_id as _parse_article_id

if TYPE_CHECKING:
    from newscrawl.store.plan import Known

url_article_id = lru_cache(maxsize=100_000)(_parse_article_id)
"""The id in a URL; cached, as every URL of a batch is asked for it several times."""


def url_id(url: str, prep: Prepared) -> str | None:
    """The online id one URL of an item names: the id in the URL, else the item's own."""
    return url_article_id(url) or prep.article_id


def group_id(prep: Prepared) -> str | None:
    """The online id of the publication an item belongs to (None: it has none)."""
    return url_id(prep.url, prep)


def lookup_ids(prep: Prepared) -> set[str]:
    """The ids under which a stored story of this item may be found."""
    return {i for i in (prep.article_id, group_id(prep)) if i}


class _Components:
    """Union-find over items and stored stories; two stored stories are never joined."""

    def __init__(self) -> None:
        self.parent: dict[Any, Any] = {}
        self.stored: dict[Any, int | None] = {}

    def find(self, node: Any) -> Any:
        self.parent.setdefault(node, node)
        if node not in self.stored:
            self.stored[node] = node[1] if node[0] == "s" else None
        root = node
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[node] != root:
            self.parent[node], node = root, self.parent[node]
        return root

    def union(self, a: Any, b: Any) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        if self.stored[ra] is not None and self.stored[rb] is not None:
            return False
        if self.stored[ra] is None:
            ra, rb = rb, ra
        self.parent[rb] = ra
        return True


BandIndex = dict[tuple[int, int], list[tuple[Any, int, datetime | None]]]
"""(band number, band) → (node, SimHash, published) of the stories and items seen."""


def add_to_band_index(
    index: BandIndex, node: Any, simhash: int, published: datetime | None
) -> None:
    """Index ``node`` under each of its four bands (``near_nodes`` probes them)."""
    entry = (node, simhash, published)
    for band_no, band in enumerate(dedup.bands(simhash)):
        index.setdefault((band_no, band), []).append(entry)


def _band_index(known: Known) -> BandIndex:
    index: BandIndex = {}
    for story in sorted(known.stories.values(), key=lambda s: s.id):
        if story.simhash is not None:
            add_to_band_index(index, ("s", story.id), story.simhash, story.published_at)
    return index


def near_nodes(index: BandIndex, simhash: int, published: datetime | None) -> list[Any]:
    """Nodes within ``MAX_DISTANCE`` of ``simhash`` and near in time (``dedup.near_in_time``),
    nearest first (ties by node)."""
    found: dict[Any, int] = {}
    for band_no, band in enumerate(dedup.bands(simhash)):
        for probe in dedup.probes(band):
            for node, other, other_published in index.get((band_no, probe), ()):
                if node not in found and dedup.near_in_time(published, other_published):
                    distance = dedup.distance(simhash, other)
                    if distance <= dedup.MAX_DISTANCE:
                        found[node] = distance
    return sorted(found, key=lambda node: (found[node], node))


def components(prepared: dict[int, Prepared], known: Known) -> dict[Any, list[Any]]:
    """Root → its nodes (("i", index) items, ("s", id) stored stories)."""
    comps = _Components()
    order = sorted(prepared, key=lambda i: item_order(prepared[i], i))
    first_by_key: dict[str, Any] = {}
    linked: set[int] = set()
    # Strong links first (URLs, ids), in a fixed order: the result cannot depend on
    # the order of the batch.
    for index in order:
        prep, node = prepared[index], ("i", index)
        comps.find(node)
        keys = [f"u:{url}" for url in prep.url_sites()] + [f"i:{i}" for i in lookup_ids(prep)]
        for key in keys:
            stored = known.by_url.get(key[2:]) if key[0] == "u" else known.by_id.get(key[2:])
            if stored is not None and comps.union(node, ("s", stored)):
                linked.add(index)
            if key in first_by_key:
                comps.union(node, first_by_key[key])
            else:
                first_by_key[key] = node
    # Then near-duplicates, for items no URL or id tied to a stored story: against the
    # stored stories (however they were found) and the batch's other such items.
    index_: BandIndex | None = None
    for index in order:
        prep = prepared[index]
        if index in linked or prep.simhash is None:
            continue
        if index_ is None:  # built once, and only when an item needs it
            index_ = _band_index(known)
        node, published = ("i", index), prep.row.get("published_at")
        for other in near_nodes(index_, prep.simhash, published):
            comps.union(node, other)
        add_to_band_index(index_, node, prep.simhash, published)
    members: dict[Any, list[Any]] = {}
    for node in [("i", i) for i in order] + [("s", s) for s in sorted(known.stories)]:
        members.setdefault(comps.find(node), []).append(node)
    return members


def item_order(prep: Prepared, index: int) -> tuple[Any, ...]:
    return (prep.fetched_at, prep.url, prep.fetched_url, prep.content_hash, index)
