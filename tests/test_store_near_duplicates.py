"""Near-duplicates in the store, on both databases: a syndicated copy under another online
id is one story with its original, within a week of publication and at most
``dedup.MAX_DISTANCE`` bits of SimHash away; stories sharing a passage stay apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from newscrawl.store import lookup, write_batch
from newscrawl.store.models import Article, ArticleVersion
from newscrawl.store.validate import prepare
from tests.dbs import (
    FETCHED_AT,
    count_rows,
    fixture_paragraphs,
    make_item,
    only_article,
    publication_urls,
)


def _syndicated(paragraphs: list[str]) -> str:
    return "\n".join(["Kassel (dpa) – " + paragraphs[0], *paragraphs[1:], "Von Anna Schmidt (dpa)"])


def test_syndicated_copy_under_another_id_is_one_story(db_engine: Engine) -> None:
    paragraphs = fixture_paragraphs()["nordkorea"]
    original = make_item(article_id="13747005", text="\n".join(paragraphs))
    copy_url = "https://www.hna.de/politik/kim-jong-un-zurueck-91234567.html"
    copy = make_item(
        article_id="91234567", site="hna.de", url=copy_url, fetched_url=copy_url,
        fetched_site="hna.de", text=_syndicated(paragraphs), title="Kim Jong Un ist zurück",
    )  # fmt: skip
    write_batch(db_engine, [original])
    result = write_batch(db_engine, [copy])
    assert result.outcomes[0].status == "duplicate"
    assert count_rows(db_engine, Article) == 1
    story = only_article(db_engine)
    assert (story.article_id, story.text) == ("13747005", "\n".join(paragraphs))
    assert publication_urls(db_engine)[copy_url] == (story.id, "91234567")
    # A re-crawl of the copy under its own id is recognised by id now, and never rewrites.
    again = write_batch(db_engine, [dict(copy, text=copy["text"] + " Update.")])
    assert again.outcomes[0].status == "unchanged"
    assert count_rows(db_engine, ArticleVersion) == 0


def _original_and_copy(days_later: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The nordkorea story and its agency copy on hna.de under another id, ``days_later``."""
    paragraphs = fixture_paragraphs()["nordkorea"]
    original = make_item(article_id="13747005", text="\n".join(paragraphs))
    copy_url = "https://www.hna.de/politik/kim-jong-un-zurueck-91234567.html"
    copy = make_item(
        article_id="91234567", site="hna.de", url=copy_url, fetched_url=copy_url,
        fetched_site="hna.de", text=_syndicated(paragraphs),
        published_at=original["published_at"] + timedelta(days=days_later),
    )  # fmt: skip
    return original, copy


@pytest.mark.parametrize("mixed", [False, True], ids=["alone", "in a batch spanning months"])
@pytest.mark.parametrize(("days_later", "status"), [(6, "duplicate"), (8, "new")])
def test_near_duplicates_are_looked_for_within_a_week_of_publication(
    db_engine: Engine, days_later: int, status: str, mixed: bool
) -> None:
    """Copies run within days of each other; the lookup is bounded so it does not grow
    with the archive (newscrawl.store.dedup.NEAR_DUPLICATE_WINDOW), per item even when
    the batch holds stories of other months, as a crawl's batches do."""
    original, copy = _original_and_copy(days_later)
    others = [
        make_item(article_id=f"9000000{n}", text=f"Eine ganz andere Meldung Nummer {n}. " * 30,
                  published_at=original["published_at"] + timedelta(days=days))
        for n, days in enumerate((-200, 300))
    ] if mixed else []  # fmt: skip
    write_batch(db_engine, [original])
    assert write_batch(db_engine, [copy, *others]).outcomes[0].status == status
    assert count_rows(db_engine, Article) == (1 if status == "duplicate" else 2) + len(others)


@pytest.mark.parametrize(("days_later", "stories"), [(7, 1), (8, 2)])
@pytest.mark.parametrize("batches", ["one batch", "two batches", "copy first"])
def test_a_copy_is_one_story_with_its_original_whatever_the_batches(
    db_engine: Engine, days_later: int, stories: int, batches: str
) -> None:
    """The week is part of what a near-duplicate is (``dedup.near_in_time``), not only of
    the lookup's window: a copy eight days later was one story with its original when
    both came in one batch, and two when they came in two."""
    original, copy = _original_and_copy(days_later)
    order = {
        "one batch": [[original, copy]],
        "two batches": [[original], [copy]],
        "copy first": [[copy], [original]],
    }[batches]
    for batch in order:
        write_batch(db_engine, batch)
    assert count_rows(db_engine, Article) == stories
    urls = publication_urls(db_engine)
    assert (urls[copy["url"]][0] == urls[original["url"]][0]) is (stories == 1)


@pytest.mark.parametrize(
    ("stored_date", "copy_date", "status"),
    [(None, 0, "updated"), (0, None, "duplicate"), (None, None, "duplicate")],
    ids=["undated original", "undated copy", "both undated"],
)  # fmt: skip
def test_near_duplicates_without_a_date_match_any_date(
    db_engine: Engine, stored_date: int | None, copy_date: int | None, status: str
) -> None:
    """A story without a publication date is a candidate for a copy of any date, and an
    undated copy is looked for among stories of every date (the lookup's window holds
    only for two dated stories); a third story of the copy's week, not near, stays apart.
    A dated copy of an undated story becomes its original (no date counts as latest)."""
    paragraphs = fixture_paragraphs()["nordkorea"]
    day = datetime(2024, 4, 26, 18, 44, tzinfo=UTC)

    def published(days: int | None) -> datetime | None:
        return None if days is None else day + timedelta(days=days)

    original = make_item(
        article_id="13747005", text="\n".join(paragraphs), published_at=published(stored_date)
    )
    other = make_item(article_id="13747999", published_at=day)
    copy_url = "https://www.hna.de/politik/kim-jong-un-zurueck-91234567.html"
    copy = make_item(
        article_id="91234567", site="hna.de", url=copy_url, fetched_url=copy_url,
        fetched_site="hna.de", text=_syndicated(paragraphs), published_at=published(copy_date),
    )  # fmt: skip
    write_batch(db_engine, [original, other])
    result = write_batch(db_engine, [copy])
    assert [o.status for o in result.outcomes] == [status]
    assert count_rows(db_engine, Article) == 2
    assert publication_urls(db_engine)[copy_url] == (result.outcomes[0].article, "91234567")
    assert result.outcomes[0].article == publication_urls(db_engine)[original["url"]][0]


def test_copies_in_one_batch_are_one_story(db_engine: Engine) -> None:
    paragraphs = fixture_paragraphs()["nordkorea"]
    items = [make_item(article_id="13747005", text="\n".join(paragraphs))]
    for n, site in enumerate(("hna.de", "tz.de")):
        url = f"https://www.{site}/politik/kim-{n}-9123456{n}.html"
        items.append(
            make_item(article_id=f"9123456{n}", site=site, url=url, fetched_url=url,
                      text=_syndicated(paragraphs))
        )  # fmt: skip
    result = write_batch(db_engine, items)
    assert [o.status for o in result.outcomes] == ["new", "duplicate", "duplicate"]
    assert len({o.article for o in result.outcomes}) == 1
    assert count_rows(db_engine, Article) == 1 and len(publication_urls(db_engine)) == 3


def test_stories_sharing_paragraphs_are_not_merged(db_engine: Engine) -> None:
    p = fixture_paragraphs()["nordkorea"]
    half = len(p) // 2
    first = make_item(article_id="13747005", text="\n".join(p[:half]))
    second_url = "https://www.fr.de/politik/kim-nachfolge-13747999.html"
    second = make_item(
        article_id="13747999", url=second_url, fetched_url=second_url,
        text="\n".join([*p[half:], *p[1:3]]),
    )  # fmt: skip
    result = write_batch(db_engine, [first, second])
    assert [o.status for o in result.outcomes] == ["new", "new"]
    assert count_rows(db_engine, Article) == 2


def test_refetch_and_copy_in_one_batch_are_one_story(db_engine: Engine) -> None:
    """The batch plan once matched a copy only against stories it had found by SimHash
    band, not against one it loaded by URL for a re-fetch in the same batch."""
    paragraphs = fixture_paragraphs()["nordkorea"]
    original = make_item(article_id="13747005", text="\n".join(paragraphs))
    copy_url = "https://www.hna.de/politik/kim-jong-un-zurueck-91234567.html"
    copy = make_item(
        article_id="91234567", site="hna.de", url=copy_url, fetched_url=copy_url,
        fetched_site="hna.de", text=_syndicated(paragraphs), authors=["Anna Schmidt"],
    )  # fmt: skip
    write_batch(db_engine, [original])
    refetch = dict(original, fetched_at=FETCHED_AT + timedelta(hours=1))
    result = write_batch(db_engine, [refetch, copy])
    assert [o.status for o in result.outcomes] == ["unchanged", "duplicate"]
    assert count_rows(db_engine, Article) == 1
    story = only_article(db_engine)
    assert (story.url, story.authors) == (original["url"], ["Simone Jung"])


def _bits(*positions: int) -> int:
    return sum(1 << position for position in positions)


STORED = _bits(0, 5, 17, 30, 33, 47, 50, 63)
"""A SimHash with its top bit set: stored as a negative BIGINT."""


@pytest.mark.parametrize(
    ("stored", "flipped", "status"),
    [
        (STORED, _bits(1, 2, 17, 18, 33, 34, 49), "duplicate"),  # bands differ 2, 2, 2, 1
        (STORED, _bits(*range(48, 55)), "duplicate"),  # 7 bits, all in the top band
        (STORED, _bits(*range(48, 56)), "new"),  # 8 bits: three bands equal, yet too far
        (STORED, _bits(1, 2, 17, 18, 33, 34, 49, 50), "new"),  # 8 bits, 2 in every band
        (STORED, _bits(63, 62, 61, 3, 4, 20, 36), "duplicate"),  # the sign bit flipped
        (_bits(3, 9), _bits(63, 1, 2, 17, 18, 33, 34), "duplicate"),  # a positive stored
    ],
    ids=["7 spread", "7 in one band", "8 in one band", "8 spread", "sign bit", "to negative"],
)
def test_a_near_duplicate_is_at_most_seven_bits_away_whatever_the_bands_say(
    db_engine: Engine, stored: int, flipped: int, status: str
) -> None:
    """The lookup checks the SimHash distance of every band match (store/lookup.py): a band
    match alone, or a hash eight bits away, is not a copy; the top bit (the sign of the
    stored BIGINT) counts as any other."""
    paragraphs = fixture_paragraphs()["nordkorea"]
    original = make_item(article_id="13747005", text="\n".join(paragraphs), simhash=stored)
    copy_url = "https://www.hna.de/politik/eine-andere-meldung-91234567.html"
    copy = make_item(
        article_id="91234567", site="hna.de", url=copy_url, fetched_url=copy_url,
        fetched_site="hna.de", text="\n".join(fixture_paragraphs()["musk"]),
        simhash=stored ^ flipped,
    )  # fmt: skip
    write_batch(db_engine, [original])
    with db_engine.connect() as conn:  # only a real near-copy is read for the plan
        near = lookup.load(conn, [prepare(copy)]).stories
    assert len(near) == (1 if status == "duplicate" else 0)
    result = write_batch(db_engine, [copy])
    assert [o.status for o in result.outcomes] == [status]
    assert count_rows(db_engine, Article) == (1 if status == "duplicate" else 2)
