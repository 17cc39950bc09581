"""write_batch on both databases: identity, change, rejection (near-duplicates and
syndicated copies: ``test_store_near_duplicates.py``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select, text

from newscrawl.store import write_batch
from newscrawl.store.models import Article, ArticleUrl, ArticleVersion
from newscrawl.store.validate import MAX_TEXT_LENGTH
from tests.dbs import (
    FETCHED_AT,
    count_rows,
    make_item,
    only_article,
    publication_urls,
)

MERKUR = "https://www.merkur.de/ratgeber/ambrosia-giftig-garten-zr-93036630.html"


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
    row = only_article(db_engine)
    assert (row.url, row.site, row.article_id, row.authors) == (
        make_item()["url"], "fr.de", "93036630", ["Simone Jung"],
    )  # fmt: skip
    assert row.published_at == make_item()["published_at"]
    assert row.first_seen_at == FETCHED_AT and row.published_at.tzinfo is not None
    assert result.outcomes[0].article == row.id
    assert publication_urls(db_engine) == {row.url: (row.id, "93036630")}


def test_recrawl_writes_nothing_to_articles(db_engine: Engine) -> None:
    write_batch(db_engine, [make_item()])
    _watch_writes(db_engine)
    before = _row_versions(db_engine)
    later = FETCHED_AT + timedelta(days=1)
    result = write_batch(db_engine, [make_item(fetched_at=later)])
    assert result.counts()["unchanged"] == 1
    assert _row_versions(db_engine) == before
    assert only_article(db_engine).fetched_at == FETCHED_AT
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
    assert count_rows(db_engine, Article) == 1
    story = only_article(db_engine)
    assert story.url == first["url"]  # a self-canonical old slug does not take over
    assert set(publication_urls(db_engine)) == {
        first["url"], old_slug["url"], first["url"] + "?utm_source=feed", MERKUR,
    }  # fmt: skip
    assert {article for article, _ in publication_urls(db_engine).values()} == {story.id}


def test_declared_canonical_replaces_the_stored_one(db_engine: Engine) -> None:
    # First seen as the merkur.de copy (self-canonical), later a page declares fr.de canonical.
    write_batch(db_engine, [make_item(url=MERKUR, site="merkur.de", fetched_url=MERKUR)])
    declared = make_item(fetched_url=MERKUR.replace("merkur", "tz"), fetched_site="tz.de")
    result = write_batch(db_engine, [declared])
    assert result.outcomes[0].status == "updated"
    story = only_article(db_engine)
    assert (story.url, story.site) == (declared["url"], "fr.de")
    assert count_rows(db_engine, Article) == 1 and count_rows(db_engine, ArticleVersion) == 0
    assert len(publication_urls(db_engine)) == 3


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
    story = only_article(db_engine)
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
    assert only_article(db_engine).text == "Dritte Fassung."


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
    assert count_rows(db_engine, Article) == 1


def test_iso_strings_and_nul_bytes_are_accepted(db_engine: Engine) -> None:
    item = make_item(published_at="2024-04-26T20:44:00+02:00", fetched_at=FETCHED_AT.isoformat())
    item["title"] = "Ambrosia\x00 im Garten"
    assert write_batch(db_engine, [item]).outcomes[0].status == "new"
    story = only_article(db_engine)
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
    assert count_rows(db_engine, Article) == 1 and count_rows(db_engine, ArticleVersion) == 0
    assert (only_article(db_engine).article_id, only_article(db_engine).text) == (
        "1000001",
        b["text"],
    )


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
    assert count_rows(db_engine, Article) == 1
    assert set(publication_urls(db_engine)) == {items[0]["url"]}


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
