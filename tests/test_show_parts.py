"""``scrapy articles show`` with a story's parts: fact boxes, tables, ticker entries."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from newscrawl.extract import EXTRACTOR_VERSION
from newscrawl.output import parts_blocks
from newscrawl.store import write_batch
from tests.mocknet import stories
from tests.query_data import Articles, jsonl
from tests.test_store_parts import EXPLAINER, TICKER, story_item

EXPLAINER_BLOCKS = """
boxes (1):
[Hinzuverdienst]
Neben der Altersrente darf unbegrenzt hinzuverdient werden.

Für Erwerbsminderungsrenten gelten weiter Grenzen.

tables (1):
[Rentenwerte im Vergleich]
Jahr | Rentenwert | Anstieg
2025 | 39,32 Euro | 4,57 %
2026 | 40,79 Euro | 3,73 %
"""

PARTS_CASES = [
    ({}, ""),
    ({"boxes": [], "tables": [], "ticker": []}, ""),
    ({"boxes": [{"title": None, "text": "Nur Text."}]}, "\nboxes (1):\nNur Text.\n"),
    (
        {"tables": [{"caption": None, "rows": [["a", "b"], ["1", ""]]}]},
        "\ntables (1):\na | b\n1 | \n",
    ),
    (
        {"ticker": [
            {"time": "2025-10-25T21:32:00+02:00", "headline": "Brüssel", "text": "Neu."},
            {"time": None, "headline": None, "text": "Alt."},
        ]},
        "\nticker (2):\n2025-10-25T21:32:00+02:00  [Brüssel]\nNeu.\n\n(no time)\nAlt.\n",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("article", "expected"), PARTS_CASES)
def test_parts_blocks(article: dict[str, object], expected: str) -> None:
    assert parts_blocks(article) == expected


@pytest.fixture
def stored(db_engine: Engine, db_url: str) -> str:
    write_batch(db_engine, [story_item(stories.EXPLAINER_ID), story_item(stories.TICKER_ID)])
    return db_url


def test_show_prints_the_parts_as_blocks(stored: str, cli: Articles) -> None:
    explainer = cli.ok("show", stories.EXPLAINER_ID, "--database", stored)
    assert explainer.endswith(EXPLAINER_BLOCKS)
    head = explainer.split("\n\n", 1)[0].splitlines()
    assert "story_type          article" in head
    assert f"extractor_version   {EXTRACTOR_VERSION}" in head
    assert not any(line.startswith(("boxes ", "tables ", "ticker ")) for line in head)
    ticker = cli.ok("show", stories.TICKER_ID, "--database", stored)
    entries = ticker.split("\nticker (5):\n", 1)[1]
    first = TICKER["ticker"][0]
    assert entries.startswith(f"{first['time']}  [{first['headline']}]\n{first['text']}\n\n")
    assert entries.count("+02:00  [") == 5


def test_show_jsonl_carries_the_parts(stored: str, cli: Articles) -> None:
    [explainer] = jsonl(cli.ok("show", stories.EXPLAINER_ID, "--format", "jsonl",
                               "--database", stored))  # fmt: skip
    [ticker] = jsonl(cli.ok("show", stories.TICKER_ID, "--format", "jsonl", "--database", stored))
    assert [
        (s["boxes"], s["tables"], s["ticker"], s["story_type"], s["extractor_version"])
        for s in (explainer, ticker)
    ] == [
        (EXPLAINER["boxes"], EXPLAINER["tables"], [], "article", EXTRACTOR_VERSION),
        (TICKER["boxes"], [], TICKER["ticker"], "ticker", EXTRACTOR_VERSION),
    ]
    assert "parts_text" not in explainer
