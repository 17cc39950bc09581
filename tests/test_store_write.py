"""write_batch on both databases: identity, syndication, change, rejection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text

from newscrawl.store import lookup, write_batch
from newscrawl.store.models import Article, ArticleUrl, ArticleVersion
from newscrawl.store.validate import MAX_TEXT_LENGTH, prepare
from tests.dbs import FETCHED_AT, fixture_paragraphs, make_item

MERKUR = "https://www.merkur.de/ratgeber/ambrosia-giftig-garten-zr-93036630.html"


def _count(engine: Engine, model: Any) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def _urls(engine: Engine) -> dict[str, tuple[int, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(select(ArticleUrl.url, ArticleUrl.article, ArticleUrl.article_id))
        return {row.url: (row.article, row.article_id) for row in rows}


def _article(engine: Engine) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(Article)).one()


def _row_versions(engine: Engine) -> list[str]:
    # PostgreSQL's xmin changes with every write of a row; SQLite gets a counting trigger.
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            return [r[0] for r in conn.execute(text("SELECT xmin::text FROM articles ORDER BY id"))]
        return [str(r[0]) for r in conn.execute(text("SELECT count(*) FROM article_writes"))]


def _watch_writes(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE article_writes (id INTEGER)"))
            conn.execute(
                text(
                    "CREATE TRIGGER count_writes AFTER UPDATE ON articles BEGIN "
                    "INSERT INTO article_writes VALUES (new.id); END"
                )
            )


def test_new_story_is_stored_with_its_url(db_engine: Engine) -> None:
    result = write_batch(db_engine, [make_item()])
    assert result.counts() == {"new": 1, "updated": 0, "unchanged": 0, "duplicate": 0, "failed": 0}
    row = _article(db_engine)
    assert (row.url, row.site, row.article_id, row.authors) == (
        make_item()["url"], "fr.de", "93036630", ["Simone Jung"],
    )  # fmt: skip
    assert row.published_at == make_item()["published_at"]
    assert row.first_seen_at == FETCHED_AT and row.published_at.tzinfo is not None
    assert result.outcomes[0].article == row.id
    assert _urls(db_engine) == {row.url: (row.id, "93036630")}


def test_recrawl_writes_nothing_to_articles(db_engine: Engine) -> None:
    write_batch(db_engine, [make_item()])
    _watch_writes(db_engine)
    before = _row_versions(db_engine)
    later = FETCHED_AT + timedelta(days=1)
    result = write_batch(db_engine, [make_item(fetched_at=later)])
    assert result.counts()["unchanged"] == 1
    assert _row_versions(db_engine) == before
    assert _article(db_engine).fetched_at == FETCHED_AT
    with db_engine.connect() as conn:
        assert conn.execute(select(ArticleUrl.last_seen_at)).scalar_one() == later
    # An older sighting never moves last_seen_at back.
    write_batch(db_engine, [make_item(fetched_at=FETCHED_AT - timedelta(days=3))])
    with db_engine.connect() as conn:
        assert conn.execute(select(ArticleUrl.last_seen_at)).scalar_one() == later


def test_old_slug_tracking_url_and_second_portal_stay_one_story(db_engine: Engine) -> None:
    first = make_item()
    old_slug = make_item(url=first["url"].replace("ambrosia-giftig", "ambrosia"),
                         fetched_at=FETCHED_AT + timedelta(hours=1))  # fmt: skip
    old_slug["fetched_url"] = old_slug["url"]
    tracking = make_item(fetched_url=first["url"] + "?utm_source=feed")
    portal = make_item(fetched_url=MERKUR, fetched_site="merkur.de")
    result = write_batch(db_engine, [first])
    result = write_batch(db_engine, [old_slug, tracking, portal])
    assert [o.status for o in result.outcomes] == ["duplicate"] * 3
    assert _count(db_engine, Article) == 1
    story = _article(db_engine)
    assert story.url == first["url"]  # a self-canonical old slug does not take over
    assert set(_urls(db_engine)) == {
        first["url"], old_slug["url"], first["url"] + "?utm_source=feed", MERKUR,
    }  # fmt: skip
    assert {article for article, _ in _urls(db_engine).values()} == {story.id}


def test_declared_canonical_replaces_the_stored_one(db_engine: Engine) -> None:
    # First seen as the merkur.de copy (self-canonical), later a page declares fr.de canonical.
    write_batch(db_engine, [make_item(url=MERKUR, site="merkur.de", fetched_url=MERKUR)])
    declared = make_item(fetched_url=MERKUR.replace("merkur", "tz"), fetched_site="tz.de")
    result = write_batch(db_engine, [declared])
    assert result.outcomes[0].status == "updated"
    story = _article(db_engine)
    assert (story.url, story.site) == (declared["url"], "fr.de")
    assert _count(db_engine, Article) == 1 and _count(db_engine, ArticleVersion) == 0
    assert len(_urls(db_engine)) == 3


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
    assert _count(db_engine, Article) == 1
    story = _article(db_engine)
    assert (story.article_id, story.text) == ("13747005", "\n".join(paragraphs))
    assert _urls(db_engine)[copy_url] == (story.id, "91234567")
    # A re-crawl of the copy under its own id is recognised by id now, and never rewrites.
    again = write_batch(db_engine, [dict(copy, text=copy["text"] + " Update.")])
    assert again.outcomes[0].status == "unchanged"
    assert _count(db_engine, ArticleVersion) == 0


@pytest.mark.parametrize("mixed", [False, True], ids=["alone", "in a batch spanning months"])
@pytest.mark.parametrize(("days_later", "status"), [(6, "duplicate"), (8, "new")])
def test_near_duplicates_are_looked_for_within_a_week_of_publication(
    db_engine: Engine, days_later: int, status: str, mixed: bool
) -> None:
    """Copies run within days of each other; the lookup is bounded so it does not grow
    with the archive (newscrawl.store.lookup.NEAR_DUPLICATE_WINDOW), per item even when
    the batch holds stories of other months, as a crawl's batches do."""
    paragraphs = fixture_paragraphs()["nordkorea"]
    original = make_item(article_id="13747005", text="\n".join(paragraphs))
    copy_url = "https://www.hna.de/politik/kim-jong-un-zurueck-91234567.html"
    copy = make_item(
        article_id="91234567", site="hna.de", url=copy_url, fetched_url=copy_url,
        fetched_site="hna.de", text=_syndicated(paragraphs),
        published_at=original["published_at"] + timedelta(days=days_later),
    )  # fmt: skip
    others = [
        make_item(article_id=f"9000000{n}", text=f"Eine ganz andere Meldung Nummer {n}. " * 30,
                  published_at=original["published_at"] + timedelta(days=days))
        for n, days in enumerate((-200, 300))
    ] if mixed else []  # fmt: skip
    write_batch(db_engine, [original])
    assert write_batch(db_engine, [copy, *others]).outcomes[0].status == status
    assert _count(db_engine, Article) == (1 if status == "duplicate" else 2) + len(others)


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
    assert _count(db_engine, Article) == 2
    assert _urls(db_engine)[copy_url] == (result.outcomes[0].article, "91234567")
    assert result.outcomes[0].article == _urls(db_engine)[original["url"]][0]


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
    assert _count(db_engine, Article) == 1 and len(_urls(db_engine)) == 3


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
    assert _count(db_engine, Article) == 2


def test_changed_story_is_updated_and_versioned(db_engine: Engine) -> None:
    original = make_item()
    write_batch(db_engine, [original])
    edited = make_item(
        text=original["text"] + "\nUpdate: Die Stadt warnt.",
        modified_at=FETCHED_AT + timedelta(hours=2), fetched_at=FETCHED_AT + timedelta(hours=3),
    )  # fmt: skip
    retimed = make_item(
        text=edited["text"], modified_at=FETCHED_AT + timedelta(hours=5),
        fetched_at=FETCHED_AT + timedelta(hours=6),
    )  # fmt: skip
    stale = make_item(modified_at=FETCHED_AT + timedelta(hours=1), fetched_at=FETCHED_AT)
    assert write_batch(db_engine, [edited]).outcomes[0].status == "updated"
    # A stale fetch never overwrites the row, but its content is part of the story's
    # history (in another arrival order it would have been the row for a while).
    assert write_batch(db_engine, [retimed]).outcomes[0].status == "updated"
    assert write_batch(db_engine, [stale]).outcomes[0].status == "unchanged"
    story = _article(db_engine)
    assert (story.text, story.modified_at) == (edited["text"], retimed["modified_at"])
    assert story.first_seen_at == FETCHED_AT and story.fetched_at == retimed["fetched_at"]
    with db_engine.connect() as conn:
        versions = conn.execute(select(ArticleVersion).order_by(ArticleVersion.id)).all()
    assert [(v.text, v.modified_at, v.fetched_at) for v in versions] == [
        (original["text"], None, FETCHED_AT),
        (edited["text"], edited["modified_at"], edited["fetched_at"]),
        (original["text"], stale["modified_at"], FETCHED_AT),
    ]
    assert {v.article for v in versions} == {story.id}


def test_two_changes_in_one_batch_keep_both_versions(db_engine: Engine) -> None:
    write_batch(db_engine, [make_item()])
    v2 = make_item(text="Zweite Fassung.", modified_at=FETCHED_AT + timedelta(hours=1))
    v3 = make_item(text="Dritte Fassung.", modified_at=FETCHED_AT + timedelta(hours=2))
    assert [o.status for o in write_batch(db_engine, [v2, v3]).outcomes] == ["updated"] * 2
    with db_engine.connect() as conn:
        texts = conn.execute(select(ArticleVersion.text).order_by(ArticleVersion.id)).scalars()
        assert list(texts) == [make_item()["text"], "Zweite Fassung."]
    assert _article(db_engine).text == "Dritte Fassung."


def test_bad_items_fail_alone(db_engine: Engine) -> None:
    good = make_item()
    items = [
        make_item(url=None),
        make_item(article_id="111", text="x" * (MAX_TEXT_LENGTH + 1)),
        make_item(article_id="222", published_at=20240426),
        make_item(article_id="333", published_at="gestern"),
        make_item(article_id="444", authors="Simone Jung"),
        good,
    ]
    result = write_batch(db_engine, items)
    assert [(o.status, o.reason) for o in result.outcomes] == [
        ("failed", "missing_url"), ("failed", "too_long"), ("failed", "bad_date"),
        ("failed", "bad_date"), ("failed", "bad_type"), ("new", None),
    ]  # fmt: skip
    assert result.failure_reasons() == {"missing_url": 1, "too_long": 1, "bad_date": 2,
                                        "bad_type": 1}  # fmt: skip
    assert _count(db_engine, Article) == 1


def test_iso_strings_and_nul_bytes_are_accepted(db_engine: Engine) -> None:
    item = make_item(published_at="2024-04-26T20:44:00+02:00", fetched_at=FETCHED_AT.isoformat())
    item["title"] = "Ambrosia\x00 im Garten"
    assert write_batch(db_engine, [item]).outcomes[0].status == "new"
    story = _article(db_engine)
    assert story.title == "Ambrosia im Garten"
    assert story.published_at == make_item()["published_at"]


def test_canonical_url_names_the_story_whatever_the_id(db_engine: Engine) -> None:
    a = make_item(article_id="1000001", text="Erste Fassung.")
    b = make_item(article_id="1000002", text="Zweite Fassung.", url=a["url"],
                  fetched_url="https://www.fr.de/anders-1000002.html",
                  fetched_at=FETCHED_AT + timedelta(hours=1))  # fmt: skip
    result = write_batch(db_engine, [a, b])
    # b is the later content of the publication its canonical names: the row, whichever
    # arrived first. a's content bears the same (no) date: no version of its own.
    assert [o.status for o in result.outcomes] == ["updated", "new"]
    assert _count(db_engine, Article) == 1 and _count(db_engine, ArticleVersion) == 0
    assert (_article(db_engine).article_id, _article(db_engine).text) == ("1000001", b["text"])


REJECT_BOOM = {
    "sqlite": [
        "CREATE TRIGGER reject_boom BEFORE INSERT ON articles WHEN new.title = 'boom' "
        "BEGIN SELECT RAISE(ABORT, 'boom rejected'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION reject_boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.title = 'boom' THEN RAISE EXCEPTION 'boom rejected' USING ERRCODE = '23514'; "
        "END IF; RETURN NEW; END $$",
        "CREATE TRIGGER reject_boom BEFORE INSERT ON articles "
        "FOR EACH ROW EXECUTE FUNCTION reject_boom()",
    ],
}


def test_row_rejected_by_the_database_fails_alone(db_engine: Engine) -> None:
    with db_engine.begin() as conn:
        for statement in REJECT_BOOM[db_engine.dialect.name]:
            conn.execute(text(statement))
    items = [make_item(article_id="1000001"), make_item(article_id="1000002", title="boom",
             url="https://www.fr.de/b-1000002.html", text="Andere Geschichte.")]  # fmt: skip
    result = write_batch(db_engine, items)
    assert [(o.status, o.reason) for o in result.outcomes] == [
        ("new", None),
        ("failed", "db_error"),
    ]
    assert _count(db_engine, Article) == 1
    assert set(_urls(db_engine)) == {items[0]["url"]}


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
    assert _count(db_engine, Article) == 1
    story = _article(db_engine)
    assert (story.url, story.authors) == (original["url"], ["Simone Jung"])


def test_a_time_without_offset_is_berlin_time(db_engine: Engine) -> None:
    """The one time rule (newscrawl.dates), for ISO strings and naive datetimes alike."""
    naive = make_item(published_at="2024-04-26T20:44:00")
    winter = datetime(2024, 1, 15, 10, 0)
    naive_object = make_item(
        article_id="93036631",
        url="https://www.fr.de/x-93036631.html",
        text="Andere Meldung.",
        published_at=winter,
    )
    write_batch(db_engine, [naive, naive_object])
    with db_engine.connect() as conn:
        dates = dict(conn.execute(select(Article.article_id, Article.published_at)).all())
    assert dates == {
        "93036630": datetime(2024, 4, 26, 18, 44, tzinfo=UTC),
        "93036631": datetime(2024, 1, 15, 9, 0, tzinfo=UTC),
    }


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
    assert _count(db_engine, Article) == (1 if status == "duplicate" else 2)
