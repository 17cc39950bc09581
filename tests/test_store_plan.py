"""newscrawl.store.plan without a database: which story each item belongs to, as data."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from newscrawl.store import dedup
from newscrawl.store import plan as plan_module
from newscrawl.store.contents import id_order, item_sighting, refetched_as_stored
from newscrawl.store.plan import Known, StoredStory, make_plan
from newscrawl.store.validate import prepare
from tests.dbs import FETCHED_AT, fixture_paragraphs, make_item

BODY = "\n".join(fixture_paragraphs()["nordkorea"])
ORIGINAL = "https://www.fr.de/politik/kim-13747005.html"
COPY = "https://www.hna.de/politik/kim-zurueck-91234567.html"
LATER = FETCHED_AT + timedelta(hours=1)


def original(**fields: Any) -> dict[str, Any]:
    return make_item(**{"article_id": "13747005", "url": ORIGINAL, "fetched_url": ORIGINAL,
                        "text": BODY, "authors": ["Anna Fr"], **fields})  # fmt: skip


def copy(**fields: Any) -> dict[str, Any]:
    return make_item(**{
        "article_id": "91234567", "site": "hna.de", "url": COPY, "fetched_url": COPY,
        "fetched_site": "hna.de", "text": "Kassel (dpa) – " + BODY + " (dpa)",
        "authors": ["Lea Hna"], **fields,
    })  # fmt: skip


def stored(item: dict[str, Any], story_id: int = 1, **fields: Any) -> StoredStory:
    prep = prepare(item)
    return replace(
        StoredStory(
            story_id, prep.url, prep.site, prep.article_id, prep.row["published_at"],
            prep.modified_at, prep.fetched_at, prep.fetched_at, prep.content_hash,
            dedup.fingerprint(prep.row["text"]),
        ),
        **fields,
    )  # fmt: skip


def known(*stories: StoredStory, urls: dict[str, int] | None = None) -> Known:
    result = Known(stories={s.id: s for s in stories})
    for s in stories:
        result.by_url[s.url] = s.id
        if s.article_id:
            result.by_id[s.article_id] = s.id
    result.by_url.update(urls or {})
    return result


def plan_of(items: list[dict[str, Any]], store: Known) -> Any:
    return make_plan({i: prepare(item) for i, item in enumerate(items)}, store)


# (case, stored stories, batch, expected: new rows (url, authors), updates
#  (id, row url or None, drop_versions, keep_content_as_version), statuses)
CASES = [
    ("copy then original in one batch: one story, the original's row",
     [], [copy(), original(fetched_at=LATER)],
     [(ORIGINAL, ["Anna Fr"])], [], ["duplicate", "new"]),
    ("original then copy in one batch: the same",
     [], [original(fetched_at=LATER), copy()],
     [(ORIGINAL, ["Anna Fr"])], [], ["new", "duplicate"]),
    ("stored copy, its original arrives: the row switches to it, the copy's versions go",
     [stored(copy())], [original(fetched_at=LATER)],
     [], [(1, ORIGINAL, True, False)], ["updated"]),
    ("stored original, a re-fetch and a copy in one batch: the copy joins it (the old bug)",
     [stored(original())], [original(fetched_at=LATER), copy()],
     [], [], ["unchanged", "duplicate"]),
    ("stored original, its copy arrives alone: a publication, no write to the row",
     [stored(original())], [copy()],
     [], [], ["duplicate"]),
    ("an edit the page dates later: the new row, the stored content a version",
     [stored(original())], [original(text=BODY + " Neu.", modified_at=LATER, fetched_at=LATER)],
     [], [(1, ORIGINAL, False, True)], ["updated"]),
    ("a stale fetch never becomes the row",
     [stored(original(modified_at=LATER))], [original(fetched_at=LATER, text=BODY + " Alt.",
                                                      modified_at=FETCHED_AT)],
     [], [(1, None, False, False)], ["unchanged"]),
    ("an earlier published copy under another id is the original",
     [stored(original())], [copy(published_at=original()["published_at"] - timedelta(hours=1))],
     [], [(1, COPY, True, False)], ["updated"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("stories", "batch", "new", "updates", "statuses"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_plan(
    stories: list[StoredStory], batch: list[dict[str, Any]], new: list[Any],
    updates: list[Any], statuses: list[str],
) -> None:  # fmt: skip
    plan = plan_of(batch, known(*stories))
    assert [(story.row["url"], story.row["authors"]) for story in plan.new] == new
    assert [
        (u.id, u.row["url"] if u.row else None, u.drop_versions, u.keep_content_as_version)
        for u in plan.updates
    ] == updates
    assert [plan.statuses[i] for i in range(len(batch))] == statuses
    for index in range(len(batch)):  # every item belongs to the one story
        story = plan.story_of[index]
        assert (story if isinstance(story, int) else id(story)) == (
            plan.story_of[0] if isinstance(plan.story_of[0], int) else id(plan.story_of[0])
        )


def test_stale_fetch_is_kept_as_a_version_not_the_row() -> None:
    stale = original(fetched_at=LATER, text=BODY + " Alt.", modified_at=FETCHED_AT)
    plan = plan_of([stale], known(stored(original(modified_at=LATER))))
    assert [(v["text"], v["modified_at"], v["fetched_at"]) for v in plan.updates[0].versions] == [
        (stale["text"], FETCHED_AT, LATER)
    ]


def test_declared_canonical_moves_the_row_without_a_new_content() -> None:
    merkur = ORIGINAL.replace("fr.de", "merkur.de")
    declared = original(fetched_url=merkur, fetched_site="merkur.de", fetched_at=LATER)
    first = stored(original(url=merkur, site="merkur.de", fetched_url=merkur))
    plan = plan_of([declared], known(first))
    (update,) = plan.updates
    assert update.row is None and update.partial == {
        "url": ORIGINAL, "site": "fr.de", "article_id": "13747005",
        "canonical_declared_at": LATER, "first_seen_at": FETCHED_AT,
    }  # fmt: skip
    assert plan.statuses == {0: "updated"}


def test_publication_rows_take_the_earliest_and_latest_fetch() -> None:
    items = [original(fetched_at=LATER), original(), original(fetched_at=LATER + timedelta(1))]
    (row,) = plan_of(items, Known()).urls
    assert (row.url, row.article_id, row.first_seen_at, row.last_seen_at) == (
        ORIGINAL, "13747005", FETCHED_AT, LATER + timedelta(1),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("ids", "lowest"),
    [(["91234567", "13747005"], "13747005"), (["9", "10"], "9"), (["abc", "5"], "5"),
     ([None, "x"], "x")],
)  # fmt: skip
def test_lowest_online_id_is_numeric(ids: list[str | None], lowest: str) -> None:
    assert min(ids, key=id_order) == lowest


def test_renderings_of_one_edit_give_one_row_whichever_was_fetched_first() -> None:
    # The same id on two portals, equally dated, differing only in the footer: which page
    # is the row must not depend on which portal answered first (the e2e order test's flake).
    merkur = ORIGINAL.replace("fr.de", "merkur.de")
    dated = {"modified_at": LATER}
    fr = original(**dated, text=BODY + " Mehr bei fr.de.")
    other = original(**dated, url=merkur, site="merkur.de", fetched_url=merkur,
                     fetched_site="merkur.de", text=BODY + " Mehr bei merkur.de.")  # fmt: skip
    rows = set()
    for first, second in ((fr, other), (other, fr)):
        early, late = first, {**second, "fetched_at": LATER}
        (story,) = plan_of([early, late], Known()).new
        rows.add((story.row["url"], story.row["text"]))
        stored_first = stored(early)
        update = plan_of([late], known(stored_first)).updates
        kept = update[0].row["text"] if update and update[0].row else early["text"]
        rows.add((None, kept))
    assert len({text for _, text in rows}) == 1


EARLIER = FETCHED_AT - timedelta(hours=1)
MERKUR = ORIGINAL.replace("fr.de", "merkur.de")
# (case, stored row, the one item, whether the shortcut may answer)
REFETCHES = [
    ("the same page again, later", stored(original()), original(fetched_at=LATER), True),
    ("the same page again, same second", stored(original()), original(), True),
    ("a row whose canonical was declared earlier",
     stored(original(), canonical_declared_at=FETCHED_AT), original(fetched_at=LATER), True),
    ("an earlier fetch than the row's: first_seen_at moves",
     stored(original()), original(fetched_at=EARLIER), False),
    ("a row first seen after this fetch", stored(original(), first_seen_at=LATER),
     original(fetched_at=LATER - timedelta(minutes=1)), False),
    ("the item declares the canonical", stored(original()),
     original(fetched_url=MERKUR, fetched_site="merkur.de", fetched_at=LATER), False),
    ("an edit", stored(original()), original(fetched_at=LATER, text=BODY + " Neu."), False),
    ("the same id on another portal", stored(original()),
     original(url=MERKUR, site="merkur.de", fetched_url=MERKUR, fetched_at=LATER), False),
]  # fmt: skip


@pytest.mark.parametrize(
    ("row", "item", "shortcut"), [c[1:] for c in REFETCHES], ids=[c[0] for c in REFETCHES]
)
def test_an_unchanged_refetch_is_planned_as_the_full_rules_plan_it(
    row: StoredStory, item: dict[str, Any], shortcut: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shortcut for a stored row fetched again answers only where ``_decide`` would
    leave the row as it is, and gives the plan ``_decide`` gives."""
    store = known(row, urls={MERKUR: row.id})
    assert refetched_as_stored(item_sighting(0, prepare(item)), row) is shortcut
    fast = plan_of([item], store)
    monkeypatch.setattr(plan_module, "refetched_as_stored", lambda *args: False)
    assert fast == plan_of([item], store)
    if shortcut:
        assert (fast.updates, fast.story_of, fast.statuses) == ([], {0: row.id}, {0: "unchanged"})
