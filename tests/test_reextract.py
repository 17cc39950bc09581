"""Re-extraction's pure parts (which record, which fields, the report) and its SQL side
(``newscrawl/store/reextract.py``) on both databases."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from newscrawl.archive.reader import read_responses
from newscrawl.archive.records import Exchange, exchange_records
from newscrawl.archive.reextract import Position, ReextractReport, _pages, preference, reextract
from newscrawl.items import ARTICLE_FIELDS
from newscrawl.network import DEFAULT_SITES_PATH, Network
from newscrawl.store import search, write_batch
from newscrawl.store.models import Article, ArticleVersion
from newscrawl.store.reextract import DERIVED, EXTRACTED, Target, apply, changed_fields, targets
from newscrawl.store.validate import prepare
from tests.dbs import FETCHED_AT, make_item, synthetic_texts

T = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("dates", "chosen"),
    [
        ([T], T),  # the row's own fetch (an import stores WARC-Date as fetched_at)
        ([T - timedelta(milliseconds=3)], T - timedelta(milliseconds=3)),  # a live crawl's
        ([T - timedelta(days=2), T - timedelta(seconds=1)], T - timedelta(seconds=1)),
        ([T - timedelta(days=2), T + timedelta(days=1)], T - timedelta(days=2)),  # not a later
        ([T + timedelta(days=3), T + timedelta(days=1)], T + timedelta(days=1)),  # none earlier
        ([T + timedelta(days=1), T, T - timedelta(days=1)], T),
    ],
)
def test_the_record_that_produced_the_row_is_chosen(dates: list, chosen: datetime) -> None:
    assert min(dates, key=lambda date: preference(date, T)) == chosen


def test_every_field_extraction_produces_is_compared() -> None:
    assert set(EXTRACTED) == (set(ARTICLE_FIELDS) - {"simhash"}) | {"links"}
    assert not {"url", "site", "article_id", "fetched_at", "first_seen_at"} & set(EXTRACTED)
    assert not set(DERIVED) & set(EXTRACTED)


@pytest.mark.parametrize(
    ("fresh", "changed"),
    [
        ({}, []),
        ({"text": "kürzer"}, ["text"]),
        ({"authors": [], "extractor_version": "2020.1.1"}, ["authors", "extractor_version"]),
        ({"boxes": [{"title": None, "text": "Info"}], "paywall": True}, ["paywall", "boxes"]),
        ({"modified_at": datetime(2024, 5, 2, tzinfo=UTC)}, ["modified_at"]),
    ],
)
def test_changed_fields(fresh: dict, changed: list[str]) -> None:
    stored = prepare(make_item()).hashed_row()
    assert changed_fields(stored, {**stored, **fresh}) == changed


def test_report_lines() -> None:
    report = ReextractReport(
        stories=5, examined=4, changed=2, fields=Counter(text=2, authors=1), without_page=1,
        failed=Counter(empty=1),
    )  # fmt: skip
    assert report.lines() == [
        "re-extracted 4 of 5 stories (1 without an archived page, failed: empty 1)",
        "rows changed: 2 (authors 1, text 2)",
    ]
    assert ReextractReport().lines() == [
        "re-extracted 0 of 0 stories (0 without an archived page)",
        "rows changed: 0",
    ]


def _story(engine: Engine, url: str) -> dict:
    with engine.connect() as conn:
        return dict(
            conn.execute(select(Article.__table__).where(Article.url == url)).mappings().one()
        )


def test_apply_updates_in_place_without_versions(db_engine: Engine) -> None:
    item = make_item()
    other = make_item(article_id="93036631", title="Andere Meldung", text=synthetic_texts(1)[0])
    write_batch(db_engine, [item, other])
    stored = _story(db_engine, item["url"])
    (target,) = [t for u, t in targets(db_engine).items() if u == item["url"]]
    assert (target.story, target.fetched_at) == (stored["id"], FETCHED_AT)
    better = make_item(
        text=item["text"] + "\nGiftpflanzenwarnung im Nachtrag.", authors=["Simone Jung", "Red."],
        extractor_version="2099.1.1", fetched_at=FETCHED_AT + timedelta(days=9),
    )  # fmt: skip
    row = prepare(better).hashed_row()

    changes = apply(db_engine, {stored["id"]: row})

    assert (changes.examined, changes.changed) == (1, 1)
    assert changes.fields == Counter(text=1, authors=1, extractor_version=1)
    after = _story(db_engine, item["url"])
    kept = ("id", "url", "site", "article_id", "fetched_at", "first_seen_at")
    assert {k: after[k] for k in kept} == {k: stored[k] for k in kept}
    assert {k: after[k] for k in (*EXTRACTED, *DERIVED)} == {
        k: row[k] for k in (*EXTRACTED, *DERIVED)
    }
    assert after["content_hash"] != stored["content_hash"]
    with db_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ArticleVersion)).scalar() == 0
    assert [hit["url"] for hit in search(db_engine, "Giftpflanzenwarnung")] == [item["url"]]
    assert _story(db_engine, other["url"])["text"] == other["text"]
    assert apply(db_engine, {stored["id"]: row}).changed == 0


def test_targets_select_by_site_and_fetch_time(db_engine: Engine) -> None:
    first = make_item()
    later = make_item(
        article_id="93036632", site="merkur.de", title="Spät", text=synthetic_texts(1)[0],
        fetched_at=FETCHED_AT + timedelta(1),
    )  # fmt: skip
    write_batch(db_engine, [first, later])
    assert set(targets(db_engine)) == {first["url"], later["url"]}
    assert set(targets(db_engine, site="merkur.de")) == {later["url"]}
    assert set(targets(db_engine, since=FETCHED_AT + timedelta(hours=1))) == {later["url"]}


def test_second_pass_reads_only_the_chosen_records_as_a_crawl_would(tmp_path: Path) -> None:
    network = Network.load(DEFAULT_SITES_PATH)
    page = "https://www.fr.de/politik/seite-93000001.html"
    html = "<html><head><meta charset='iso-8859-1'></head><body>Straße</body></html>"
    path = tmp_path / "pages.warc.gz"
    path.write_bytes(
        b"".join(
            exchange_records(Exchange(url, 200, body, T, headers))
            for url, body, headers in (
                (page, html.encode("latin-1"), [("Content-Type", "text/html")]),
                (page, b"<html>not chosen</html>", [("Content-Type", "text/html")]),
            )
        )
    )
    offsets = [record.offset for record in read_responses(path)]
    first = Target(1, page, "fr.de", T)
    chosen = {Position(T, path, offsets[0]): first}
    report = ReextractReport()

    pages = list(_pages([path], network, chosen, report))

    assert pages == [(first, page, html.encode("latin-1"), "cp1252")]
    assert report.failed == Counter()


def test_the_entry_function_takes_a_list_and_names_its_bad_path(tmp_path: Path) -> None:
    good = tmp_path / "a.warc.gz"
    good.write_bytes(b"")
    missing = tmp_path / "b.warc.gz"
    with pytest.raises(ValueError) as error:
        reextract(f"sqlite:///{tmp_path / 'news.db'}", [str(good), str(missing)])
    assert str(error.value) == f"--warc {missing}: no such file or folder"
    assert not (tmp_path / "news.db").exists()  # refused before the database was touched
