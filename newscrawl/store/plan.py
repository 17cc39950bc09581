"""Which story each item of a batch belongs to, and what the batch must write: pure data.

No database here: ``make_plan`` takes the batch's items (``Prepared``) and what the store
already holds about them (``Known``, read by ``newscrawl.store.lookup``: stored stories
reachable by URL, online id or SimHash band) and returns a ``Plan`` that
``newscrawl.store.execute`` carries out. ``newscrawl.store.linking`` finds the stories.

The rules below make the tables a function of the SET of items stored, whatever their
arrival order, batch boundaries or database (``tests/test_store_order.py`` checks it):

Story. Items are one story when they share a publication URL (canonical, fetched, old
slug), an online id, or their bodies are near-duplicates (``dedup.MAX_DISTANCE``) published
within a week of each other (``dedup.near_in_time``). Two stories already stored are
never merged.

Publication group. The items of a story fall into groups by the online id of the URL the
item names (``url``: its page's ``rel=canonical`` when that names a registry portal with
the same id, else the fetched URL), else the item's own id, else the URL. Same id on
another portal and old slugs are one group; a syndicated copy under another id is a
group of its own.

Content and original: ``newscrawl.store.contents`` (which content of a group is current,
which group is the story's original, and what the row carries).

Versions. ``article_versions`` holds every content of the original group that its page
dated differently from the row's (``modified_at``), once each, with its first fetch as
``fetched_at``: the story's history. Contents with the row's own date are renderings of
the same edit (the original's page and a copy under the same id differ in furniture)
and contents of other groups are copies: neither is history. When the row switches
group, the old group's versions go.

Publications. Every URL of every item is an ``article_urls`` row: ``site`` of that URL,
``article_id`` the id in the URL (else the item's), ``first_seen_at``/``last_seen_at``
the earliest/latest fetch that named it.

What the store keeps is the row, the versions and the URLs, not every item, so exactness
rests on three properties of the network, which the property test's items have:
near-duplicate is consistent (a copy is within ``MAX_DISTANCE`` and a week of every
content of its original, stories are further apart; ``dedup`` measures 0-6 against 17+
bits; a text reprinted every week is a chain no order can cut the same way); a
publication's ``published_at`` does not change between its fetches; and two contents of
one group with the same (or no) ``modified_at`` are not fetched interleaved from one URL
(an edit replaces the page). Statuses (new, updated, duplicate, unchanged) describe the
batch and do depend on the order; only the tables do not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from newscrawl.store.contents import (
    Content,
    Sighting,
    content_key,
    contents_of,
    group_rank,
    item_sighting,
    refetched_as_stored,
    stored_sighting,
)
from newscrawl.store.linking import components, item_order, url_id
from newscrawl.store.validate import Prepared

VERSION_FIELDS = ("title", "lead", "text", "modified_at", "content_hash")
PARTIAL_FIELDS = ("url", "site", "article_id", "canonical_declared_at", "first_seen_at")
"""What a batch can change in a stored row without a new content."""


@dataclass(frozen=True)
class StoredStory:
    """A stored ``articles`` row, as much as deciding needs (simhash unsigned)."""

    id: int
    url: str
    site: str
    article_id: str | None
    published_at: datetime | None
    modified_at: datetime | None
    fetched_at: datetime
    first_seen_at: datetime
    content_hash: str
    simhash: int | None
    canonical_declared_at: datetime | None = None


@dataclass
class Known:
    """Stored stories a batch may touch, and how to reach them."""

    stories: dict[int, StoredStory] = field(default_factory=dict)
    by_url: dict[str, int] = field(default_factory=dict)
    by_id: dict[str, int] = field(default_factory=dict)


@dataclass
class NewStory:
    """A story the batch creates: its row, its versions and the items it came from."""

    row: dict[str, Any]
    versions: list[dict[str, Any]]
    items: list[int]
    id: int | None = None
    """Set by the executor once inserted."""


@dataclass
class StoryUpdate:
    """What the batch changes in a stored story."""

    id: int
    items: list[int]
    row: dict[str, Any] | None = None
    """A new representative: the full row (``first_seen_at`` and identity included)."""
    partial: dict[str, Any] | None = None
    """Only ``PARTIAL_FIELDS`` changed."""
    keep_content_as_version: bool = False
    """The stored content is displaced by a newer one of the same group."""
    drop_versions: bool = False
    """The row switched to another group (its original arrived)."""
    versions: list[dict[str, Any]] = field(default_factory=list)
    """Contents to keep once each (inserted if missing, ``fetched_at`` the earliest)."""


@dataclass
class UrlRow:
    url: str
    site: str
    article_id: str | None
    first_seen_at: datetime
    last_seen_at: datetime
    story: NewStory | StoryUpdate | int
    """The new story, the updated one, or the id of a stored story left as it was."""


@dataclass
class Plan:
    new: list[NewStory] = field(default_factory=list)
    updates: list[StoryUpdate] = field(default_factory=list)
    urls: list[UrlRow] = field(default_factory=list)
    statuses: dict[int, str] = field(default_factory=dict)
    """Item index → new, updated, duplicate or unchanged."""
    story_of: dict[int, NewStory | StoryUpdate | int] = field(default_factory=dict)
    """Item index → its story (as in ``UrlRow.story``)."""


# --- deciding -----------------------------------------------------------------------------


def make_plan(prepared: dict[int, Prepared], known: Known) -> Plan:
    """The plan for a batch: ``prepared`` maps item index → item (any order)."""
    plan = Plan()
    for nodes in components(prepared, known).values():
        items = sorted(n[1] for n in nodes if n[0] == "i")
        stored = [known.stories[n[1]] for n in nodes if n[0] == "s"]
        if not items:
            continue
        _decide(plan, prepared, known, items, stored[0] if stored else None)
    _url_rows(plan, prepared)
    return plan


def _decide(
    plan: Plan, prepared: dict[int, Prepared], known: Known, items: list[int],
    stored: StoredStory | None,
) -> None:  # fmt: skip
    # The stored row first: on a tie (the same fetch stored again) it stays the row.
    of_item = {i: item_sighting(i, prepared[i]) for i in items}
    if stored is not None and len(items) == 1 and refetched_as_stored(of_item[items[0]], stored):
        # Most of a re-crawl: the rules below would leave the row as it is.
        index, group = items[0], of_item[items[0]].group
        plan.statuses[index] = _statuses(prepared, of_item, known.by_url, group, set())[index]
        plan.story_of[index] = stored.id
        return
    sightings = [stored_sighting(stored)] if stored is not None else []
    sightings += of_item.values()
    groups: dict[str, list[Sighting]] = {}
    for sighting in sightings:
        groups.setdefault(sighting.group, []).append(sighting)
    ranked = {name: contents_of(group) for name, group in groups.items()}
    winner = min(ranked, key=lambda name: group_rank(ranked[name]))
    contents = ranked[winner]
    current = max(contents.values(), key=lambda c: c.key)
    rep = current.rep
    declared = max(
        (s for s in groups[winner] if s.declared_at is not None),
        key=lambda s: (s.declared_at, s.url), default=None,
    )  # fmt: skip
    named = declared or rep
    first_seen = min(
        [prepared[i].fetched_at for i in items] + ([stored.first_seen_at] if stored else [])
    )
    identity = {
        "url": named.url, "site": named.site, "article_id": rep.article_id,
        "canonical_declared_at": declared.declared_at if declared else None,
        "first_seen_at": first_seen,
    }  # fmt: skip
    row = None
    if rep.index is not None:
        row = {**prepared[rep.index].hashed_row(), **identity, "fetched_at": rep.fetched_at}
    switched = stored is not None and stored_sighting(stored).group != winner
    stored_content = None
    if stored is not None and not switched:
        stored_content = (stored.modified_at, stored.content_hash)
    versions = [
        _version(prepared, content)
        for key, content in sorted(contents.items(), key=lambda kv: kv[1].key)
        if key[0] != current.rep.modified_at and any(s.index is not None for s in content.sightings)
    ]
    newer = set(contents)
    if stored is not None and stored_content is not None:
        home = next(iter(contents.values())).home  # one home for the whole group
        home_fetch = stored.fetched_at if stored.url == home else None
        floor = content_key(stored.modified_at, stored.fetched_at, home_fetch, stored.content_hash)
        newer = {key for key, content in contents.items() if content.key > floor}
    statuses = _statuses(prepared, of_item, known.by_url, winner, newer)
    story: NewStory | StoryUpdate | int
    if stored is None:
        assert row is not None
        story = NewStory(row, versions, items)
        plan.new.append(story)
        statuses[rep.index] = "new"  # type: ignore[index]
    else:
        story = StoryUpdate(stored.id, items, versions=versions, drop_versions=switched)
        if row is not None:
            story.row = row
            story.keep_content_as_version = (
                stored_content is not None and stored_content[0] != current.rep.modified_at
            )
        else:
            before = {
                "url": stored.url, "site": stored.site, "article_id": stored.article_id,
                "canonical_declared_at": stored.canonical_declared_at,
                "first_seen_at": stored.first_seen_at,
            }  # fmt: skip
            if before != identity:
                story.partial = identity
        if (named.url, named.site) != (stored.url, stored.site) and named.index is not None:
            statuses[named.index] = "updated"
        if story.row is not None or story.partial is not None or versions:
            plan.updates.append(story)
        else:
            story = stored.id
    for index in items:
        plan.statuses[index] = statuses[index]
        plan.story_of[index] = story


def _version(prepared: dict[int, Prepared], content: Content) -> dict[str, Any]:
    items = [s for s in content.sightings if s.index is not None]
    row = prepared[items[0].index].row  # type: ignore[index]
    version = {name: row[name] for name in VERSION_FIELDS}
    version["fetched_at"] = min(s.fetched_at for s in items)
    return version


def _statuses(
    prepared: dict[int, Prepared], sightings: dict[int, Sighting], known_urls: dict[str, int],
    group: str, newer: set[tuple[Any, str]],
) -> dict[int, str]:  # fmt: skip
    """Per item, in arrival order: updated (the first to bring a content of the original
    newer than what was stored), duplicate (a URL neither stored nor seen earlier in the
    batch), else unchanged."""
    statuses: dict[int, str] = {}
    seen_contents: set[Any] = set()
    seen_urls: set[str] = set()
    for index in sorted(sightings):
        sighting = sightings[index]
        urls = prepared[index].url_sites()
        if sighting.group == group and sighting.content in newer - seen_contents:
            statuses[index] = "updated"
            seen_contents.add(sighting.content)
        elif any(url not in known_urls and url not in seen_urls for url in urls):
            statuses[index] = "duplicate"
        else:
            statuses[index] = "unchanged"
        seen_urls.update(urls)
    return statuses


def _url_rows(plan: Plan, prepared: dict[int, Prepared]) -> None:
    rows: dict[str, UrlRow] = {}
    for index in sorted(prepared, key=lambda i: item_order(prepared[i], i)):
        if index not in plan.story_of:
            continue
        prep = prepared[index]
        for url, site in prep.url_sites().items():
            row = rows.get(url)
            if row is None:
                rows[url] = UrlRow(
                    url, site, url_id(url, prep), prep.fetched_at, prep.fetched_at,
                    plan.story_of[index],
                )  # fmt: skip
            else:
                row.first_seen_at = min(row.first_seen_at, prep.fetched_at)
                row.last_seen_at = max(row.last_seen_at, prep.fetched_at)
    plan.urls = [rows[url] for url in sorted(rows)]
