"""Story parts in the store (issue 15) on both databases: columns, search, ticker versions.

The items are what the extraction worker makes of the mock network's ticker and explainer
pages (``tests/mocknet/stories.py``), as the crawl would hand them to the store.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, select, text

from newscrawl.extract import EXTRACTOR_VERSION
from newscrawl.pipelines.extract import extract_in_worker
from newscrawl.store import alembic_config, index_pending, make_engine, migrate, search, write_batch
from newscrawl.store.models import Article, ArticleVersion
from newscrawl.store.validate import ItemError, content_hash, prepare
from tests.dbs import insert_old_rows, make_item
from tests.extract_fixtures import MOCK_EXPLAINER_EXPECTED, MOCK_TICKER_EXPECTED, load_json
from tests.mocknet import stories
from tests.mocknet.spec import NetworkSpec

SPEC = NetworkSpec(6, seed=1, port=8765)
FETCHED = datetime(2025, 10, 26, 8, 0, tzinfo=UTC)
EXPLAINER = load_json(MOCK_EXPLAINER_EXPECTED)
TICKER = load_json(MOCK_TICKER_EXPECTED)
BOX_ONLY_WORD = "Erwerbsminderungsrenten"  # in the explainer's fact box, nowhere else
TABLE_ONLY_WORD = "Anstieg"  # in a header cell of the explainer's table, nowhere else


def story_item(
    article_id: str, revision: int = 0, fetched_at: datetime = FETCHED
) -> dict[str, Any]:
    """The item the crawl stores for a mock story page at ``revision`` updates."""
    meta = SPEC.article(article_id)
    assert meta is not None
    page = stories.render(SPEC, meta, revision)[1].encode("utf-8")
    ok, fields = extract_in_worker(page, meta.url, "utf-8")
    assert ok, fields
    item = {k: v for k, v in fields.items() if k not in ("canonical_url", "body_links")}
    item.update(
        url=meta.url, site=meta.domain, fetched_url=meta.url, fetched_site=meta.domain,
        article_id=article_id, fetched_at=fetched_at,
    )  # fmt: skip
    return item


def _stored(engine: Engine, *names: str) -> list[tuple[Any, ...]]:
    columns = [Article.__table__.c[name] for name in names]
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(select(*columns).order_by(Article.article_id))]


def _versions(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(ArticleVersion.modified_at, ArticleVersion.text).order_by(ArticleVersion.id)
        )
        return [tuple(row) for row in rows]


def test_parts_are_stored_as_extracted(db_engine: Engine) -> None:
    result = write_batch(
        db_engine, [story_item(stories.EXPLAINER_ID), story_item(stories.TICKER_ID)]
    )
    assert result.new == 2
    rows = _stored(db_engine, "article_id", "boxes", "tables", "ticker", "story_type",
                   "extractor_version")  # fmt: skip
    assert rows == [  # by online id: the ticker's is the lower
        (stories.TICKER_ID, TICKER["boxes"], [], TICKER["ticker"], "ticker", EXTRACTOR_VERSION),
        (stories.EXPLAINER_ID, EXPLAINER["boxes"], EXPLAINER["tables"], [], "article",
         EXTRACTOR_VERSION),
    ]  # fmt: skip
    assert len(TICKER["ticker"]) > 3 and EXTRACTOR_VERSION == "2026.12.1"


def test_a_word_only_in_a_fact_box_or_a_table_cell_finds_the_story(db_engine: Engine) -> None:
    explainer = story_item(stories.EXPLAINER_ID)
    prose = " ".join(explainer[name] for name in ("title", "lead", "text"))
    assert BOX_ONLY_WORD not in prose and TABLE_ONLY_WORD not in prose
    assert BOX_ONLY_WORD in explainer["boxes"][0]["text"]
    assert TABLE_ONLY_WORD in explainer["tables"][0]["rows"][0]
    write_batch(db_engine, [explainer, story_item(stories.TICKER_ID)])
    found = {
        word: [row["article_id"] for row in search(db_engine, word)]
        for word in (BOX_ONLY_WORD, TABLE_ONLY_WORD, "Patriot-Systeme")
    }
    assert found == {
        BOX_ONLY_WORD: [stories.EXPLAINER_ID],
        TABLE_ONLY_WORD: [stories.EXPLAINER_ID],
        "Patriot-Systeme": [stories.TICKER_ID],  # the ticker's fact box
    }
    # Search results leave the derived column out; the parts themselves are there.
    [row] = search(db_engine, BOX_ONLY_WORD)
    assert "parts_text" not in row and row["boxes"] == EXPLAINER["boxes"]


def test_a_changed_box_is_indexed_again(db_engine: Engine) -> None:
    explainer = story_item(stories.EXPLAINER_ID)
    write_batch(db_engine, [explainer])
    changed = {
        **explainer, "fetched_at": FETCHED + timedelta(hours=1),
        "boxes": [{"title": "Hinzuverdienst", "text": "Die Flexirente bleibt."}],
    }  # fmt: skip
    result = write_batch(db_engine, [changed])
    assert (result.updated, _versions(db_engine)) == (1, [])  # same edit date: no history
    assert [r["article_id"] for r in search(db_engine, "Flexirente")] == [stories.EXPLAINER_ID]
    assert search(db_engine, BOX_ONLY_WORD) == []


def test_an_unchanged_ticker_leaves_no_versions_a_changed_one_one_per_change(
    db_engine: Engine,
) -> None:
    fetches = [story_item(stories.TICKER_ID, 0, FETCHED + timedelta(minutes=m)) for m in (0, 2, 4)]
    for item in fetches:  # one run each
        write_batch(db_engine, [item])
    assert _versions(db_engine) == []
    changes = [story_item(stories.TICKER_ID, r, FETCHED + timedelta(minutes=5 * r)) for r in (1, 2)]
    for item in changes:
        write_batch(db_engine, [item])
    first, second = fetches[0], changes[0]
    assert _versions(db_engine) == [
        (first["modified_at"].astimezone(UTC), first["text"]),
        (second["modified_at"].astimezone(UTC), second["text"]),
    ]
    [(ticker, text_now)] = _stored(db_engine, "ticker", "text")
    assert (len(ticker), text_now) == (len(first["ticker"]) + 2, changes[1]["text"])
    assert ticker[0]["time"] > ticker[1]["time"] > ticker[2]["time"]  # newest first


def test_old_rows_get_empty_parts_and_stay_searchable(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate(engine, revision="0006")
    insert_old_rows(engine, [prepare(make_item()).hashed_row()])  # as 0006 wrote it
    migrate(engine)
    index_pending(engine)  # PostgreSQL: what the next crawl does for rows written before
    assert _stored(engine, "boxes", "tables", "ticker", "story_type", "extractor_version") == [
        ([], [], [], None, None)
    ]
    assert [r["article_id"] for r in search(engine, "Ambrosia")] == ["93036630"]
    engine.dispose()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"boxes": "Kasten"}, "boxes must be a list, not str"),
        ({"tables": ["a"]}, "tables must be a list of objects"),
        ({"ticker": [{"text": "x"}, 3]}, "ticker must be a list of objects"),
        ({"tables": [{"caption": None}], "boxes": [{"title": None}]}, None),
        ({"tables": [{"rows": [[1, 2]]}]}, "boxes or tables are malformed: sequence item 0"),
    ],
)
def test_malformed_parts_are_rejected_with_one_line(
    fields: dict[str, Any], message: str | None
) -> None:
    if message is None:
        assert prepare(make_item(**fields)).row["parts_text"] is None
        return
    with pytest.raises(ItemError, match="^" + message.replace("(", r"\(")) as raised:
        prepare(make_item(**fields))
    assert raised.value.reason == "bad_type"


def test_parts_change_the_hash_only_when_there_are_parts() -> None:
    assert content_hash("T", "L", "X") == content_hash("T", "L", "X", None)
    assert content_hash("T", "L", "X") == content_hash("T", "L", "X", "")
    assert content_hash("T", "L", "X") != content_hash("T", "L", "X", "Kasten")
    plain = prepare(make_item())
    assert plain.content_hash == content_hash(plain.row["title"], plain.row["lead"],
                                              plain.row["text"])  # fmt: skip


def test_0007_goes_down_and_up_again(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate(engine)
    write_batch(engine, [story_item(stories.EXPLAINER_ID)])
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0006")
    names = {column["name"] for column in inspect(engine).get_columns("articles")}
    assert names.isdisjoint({"boxes", "tables", "ticker", "story_type", "parts_text",
                             "extractor_version"})  # fmt: skip
    migrate(engine)
    index_pending(engine)
    assert _stored(engine, "article_id", "boxes") == [(stories.EXPLAINER_ID, [])]
    assert [r["article_id"] for r in search(engine, TABLE_ONLY_WORD)] == []  # parts went
    assert [r["article_id"] for r in search(engine, "Ruheständler")] == [stories.EXPLAINER_ID]
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            sql = conn.execute(
                text("SELECT sql FROM sqlite_master WHERE name = 'articles_fts'")
            ).scalar_one()
        assert 'content="articles"' in sql and "parts_text" in sql
    engine.dispose()
