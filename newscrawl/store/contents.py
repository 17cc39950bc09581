"""Which content of a publication group is current, and which group is the original.

Pure functions over *sightings* (one fetch of a story: an item of the batch, or the row
stored before it), used by ``newscrawl.store.plan``; the terms (group, home) are that
module's.

Content. Within a group, a content is a distinct ``(modified_at, content_hash)``. Its
*first fetch* is the earliest ``fetched_at`` among the items carrying it, and its
*representative* the item fetched then (ties: the lower URL). The group's current
content is the greatest by ``content_key``: an edit the page dates later wins, a stale
re-fetch never does. Among contents with the same date, those fetched from the group's
*home* (its lowest URL) come first, the later first fetch of them winning (an edit that
kept its date); a content seen only under another URL of the group is a rendering of the
same edit (the same id on two portals differs in its footer) and wins only where no home
fetch exists, by hash, whichever portal answered first. Undated contents (no date counts
as oldest) are ordered by their first fetch.

Original. The story's original is the group whose current content was published
earliest (no date counts as latest), then the one with the lowest online id. The row
carries the original's current content: every column from its representative, except
``url``/``site`` (the URL the latest fetch that *declared* a canonical named, when an
item of the group declared one, else the representative's), ``article_id`` (the group's
id), ``fetched_at`` (the content's first fetch), ``canonical_declared_at`` (that latest
declaring fetch) and ``first_seen_at`` (earliest fetch of any item of the story). When
the original arrives after a copy, the row switches to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple

from newscrawl.store.linking import group_id

if TYPE_CHECKING:  # plan imports this module
    from newscrawl.store.plan import StoredStory
    from newscrawl.store.validate import Prepared

OLDEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)


def id_order(article_id: str | None) -> tuple[int, int, str]:
    """Lowest online id first, numerically; ids that are not numbers after; none last."""
    if article_id is None:
        return (2, 0, "")
    if article_id.isdigit():
        return (0, int(article_id), article_id)
    return (1, 0, article_id)


class Sighting(NamedTuple):
    """One fetch of a story: an item of the batch (``index``) or the stored row (None)."""

    index: int | None
    group: str
    url: str
    site: str
    article_id: str | None
    fetched_at: datetime
    declared_at: datetime | None
    modified_at: datetime | None
    content_hash: str
    published_at: datetime | None

    @property
    def content(self) -> tuple[datetime | None, str]:
        return (self.modified_at, self.content_hash)

    @property
    def rep_key(self) -> tuple[datetime, str]:
        return (self.fetched_at, self.url)


def item_sighting(index: int, prep: Prepared) -> Sighting:
    gid = group_id(prep)
    return Sighting(
        index, f"id:{gid}" if gid else f"url:{prep.url}", prep.url, prep.site, gid,
        prep.fetched_at, prep.fetched_at if prep.url != prep.fetched_url else None,
        prep.modified_at, prep.content_hash, prep.row.get("published_at"),
    )  # fmt: skip


def stored_sighting(story: StoredStory) -> Sighting:
    group = f"id:{story.article_id}" if story.article_id else f"url:{story.url}"
    return Sighting(
        None, group, story.url, story.site, story.article_id, story.fetched_at,
        story.canonical_declared_at, story.modified_at, story.content_hash, story.published_at,
    )  # fmt: skip


def refetched_as_stored(item: Sighting, stored: StoredStory) -> bool:
    """The item is the stored row fetched again, unchanged, and the row would stay as it
    is: same group, URL, site, id and content, no canonical declared by the item, fetched
    no earlier than the row's fetch and first sighting. ``plan`` then skips the rules."""
    row = stored_sighting(stored)
    return (
        (item.group, item.url, item.site, item.article_id)
        == (row.group, row.url, row.site, row.article_id)
        and item.content == row.content
        and item.declared_at is None
        and item.rep_key >= row.rep_key
        and item.fetched_at >= stored.first_seen_at
    )


@dataclass
class Content:
    sightings: list[Sighting]
    home: str
    """The group's lowest URL: where its edits are told from its renderings."""

    @cached_property
    def rep(self) -> Sighting:
        return min(self.sightings, key=lambda s: s.rep_key)

    @cached_property
    def key(self) -> tuple[datetime, datetime, str]:
        rep = self.rep
        home = [s.fetched_at for s in self.sightings if s.url == self.home]
        return content_key(
            rep.modified_at, rep.fetched_at, min(home, default=None), rep.content_hash
        )


def content_key(
    modified_at: datetime | None,
    first_fetch: datetime,
    home_fetch: datetime | None,
    content_hash: str,
) -> tuple[datetime, bool, datetime, str]:
    """How contents of one group are ordered (the module docstring's "Content"): for dated
    contents the fetch time counts only among fetches of the home URL, so renderings
    under other URLs are ordered by the set, not by which portal answered first."""
    if modified_at is None:
        return (OLDEST, True, first_fetch, content_hash)
    return (modified_at, home_fetch is not None, home_fetch or OLDEST, content_hash)


def contents_of(sightings: list[Sighting]) -> dict[tuple[Any, str], Content]:
    home = min(s.url for s in sightings)
    found: dict[tuple[Any, str], Content] = {}
    for sighting in sightings:
        found.setdefault(sighting.content, Content([], home)).sightings.append(sighting)
    return found


def group_rank(contents: dict[tuple[Any, str], Content]) -> tuple[Any, ...]:
    current = max(contents.values(), key=lambda c: c.key).rep
    published = current.published_at
    return (published is None, published or LATEST, id_order(current.article_id), current.group)
