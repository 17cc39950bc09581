"""Search on SQLite ranks at most ``SEARCH_CANDIDATES`` matches, the newest (a word in
every story of a year must not rank a million rows), PostgreSQL every match; both
refuse a query of more than ``MAX_QUERY_WORDS`` words in one line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import import_module

import pytest
from sqlalchemy import Engine

from newscrawl.store import search, write_batch
from newscrawl.store.search import SearchTooLong
from tests.dbs import make_item, synthetic_texts

# The module (``newscrawl.store.search`` is also the name of its function there).
search_module = import_module("newscrawl.store.search")
FIRST = datetime(2026, 1, 1, tzinfo=UTC)
# (online id, site, title hit): stored in this order, so the ids grow down the list.
STORIES = [("93600000", "fr.de", True), ("93600001", "fr.de", False),
           ("93600002", "merkur.de", False), ("93600003", "fr.de", True),
           ("93600004", "merkur.de", False), ("93600005", "fr.de", False)]  # fmt: skip


def fill(engine: Engine) -> None:
    texts = synthetic_texts(len(STORIES), 7)
    for n, ((online, site, titled), text) in enumerate(zip(STORIES, texts, strict=True)):
        title = "Zauberwort im Titel" if titled else f"Meldung {n}"
        body = " ".join(text.split()[: 100 + 10 * n]) + " Zauberwort."
        item = make_item(article_id=online, site=site, title=title, lead="Kurz gemeldet.",
                         text=body, published_at=FIRST + timedelta(days=n))  # fmt: skip
        assert write_batch(engine, [item]).new == 1


def found(engine: Engine, **filters: object) -> list[str]:
    return [row["article_id"] for row in search(engine, "Zauberwort", limit=10, **filters)]


# Per database: everything ranked, then with 3 candidates: unfiltered, fr.de, merkur.de.
# SQLite's bm25 ranks shorter bodies higher; PostgreSQL's ts_rank_cd ties the body hits,
# and a tie goes to the newest.
EXPECTED = {
    "sqlite": (["93600000", "93600003", "93600001", "93600002", "93600004", "93600005"],
               ["93600003", "93600004", "93600005"], ["93600003", "93600001", "93600005"],
               ["93600002", "93600004"]),
    # PostgreSQL ranks every match (no bound: it was slower there, see search.py).
    "postgresql": (["93600003", "93600000", "93600005", "93600004", "93600002", "93600001"],
                   ["93600003", "93600000", "93600005", "93600004", "93600002", "93600001"],
                   ["93600003", "93600000", "93600005", "93600001"],
                   ["93600004", "93600002"]),
}  # fmt: skip


def test_only_the_newest_candidates_are_ranked(
    db_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(db_engine)
    everything = found(db_engine)
    monkeypatch.setattr(search_module, "SEARCH_CANDIDATES", 3)
    # The oldest title hit (93600000) is no candidate now: the newest three are ranked;
    # with a filter, the newest three that meet it.
    got = (everything, found(db_engine), found(db_engine, site="fr.de"),
           found(db_engine, site="merkur.de"))  # fmt: skip
    assert got == EXPECTED[db_engine.dialect.name]


def test_a_query_of_too_many_words_is_refused_in_one_line(db_engine: Engine) -> None:
    assert search(db_engine, " ".join(["Wort"] * 32)) == []
    with pytest.raises(SearchTooLong) as refused:
        search(db_engine, " ".join(["Wort"] * 800))
    assert str(refused.value) == "a search takes at most 32 words, not 800"


def test_a_word_common_as_written_is_not_matched_by_prefix(
    db_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(db_engine)
    longer = make_item(article_id="93600006", title="Meldung 6", lead="Kurz gemeldet.",
                       text=synthetic_texts(1, 8)[0] + " Zauberwortes.",
                       published_at=FIRST + timedelta(days=9))  # fmt: skip
    assert write_batch(db_engine, [longer]).new == 1
    prefixed = "93600006" in found(db_engine)
    monkeypatch.setattr(search_module, "SEARCH_CANDIDATES", 3)
    # SQLite: the prefix finds the longer word until "Zauberwort" alone fills the
    # candidates. PostgreSQL stems instead of prefixes ("Zauberwortes" is the same
    # word) and has no bound.
    expected = {"sqlite": ["93600003", "93600004", "93600005"],
                "postgresql": ["93600003", "93600000", "93600006", "93600005", "93600004",
                               "93600002", "93600001"]}  # fmt: skip
    assert (prefixed, found(db_engine)) == (True, expected[db_engine.dialect.name])
