"""The mock network's ticker and explainer pages (tests/mocknet/stories.py), extracted exactly.

Every chapter heading in ``text``, every box, table cell and ticker entry in its field
with its time, and nothing of the table of contents, the teasers, the gallery link, the
caption or the Outbrain notice anywhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from newscrawl.extract import extract_article
from newscrawl.extract.quality import expected_body
from newscrawl.items import ARTICLE_FIELDS
from newscrawl.pipelines.extract import extract_in_worker
from tests.extract_fixtures import MOCK_EXPLAINER_EXPECTED, MOCK_TICKER_EXPECTED, load_json
from tests.mocknet import stories
from tests.mocknet.client import fetch
from tests.mocknet.network import MockNetwork
from tests.mocknet.spec import NetworkSpec

SPEC = NetworkSpec(6, seed=1, port=8765)

TICKER = load_json(MOCK_TICKER_EXPECTED)
EXPLAINER = load_json(MOCK_EXPLAINER_EXPECTED)
TICKER_TEXT = expected_body(TICKER)
EXPLAINER_TEXT = expected_body(EXPLAINER)
TICKER_ENTRIES = TICKER["ticker"]
TICKER_BOXES = TICKER["boxes"]

FURNITURE = (
    "Inhaltsverzeichnis",  # the table of contents (its items: see the exact text)
    "Meine News",
    "Bilder des Tages",
    "Zur Fotostrecke",
    "Outbrain",
    "Empfohlene Inhalte",
    "Ein Flugabwehrsystem",  # the caption is image_caption, not body
)


def _page(article_id: str, revision: int = 0) -> tuple[str, bytes]:
    meta = SPEC.article(article_id)
    assert meta is not None
    return meta.url, stories.render(SPEC, meta, revision)[1].encode("utf-8")


def _no_furniture(result: dict[str, Any], domain: str, also: tuple[str, ...] = ()) -> None:
    fields = {k: v for k, v in result.items() if k not in ("image_caption", "image_credit")}
    dumped = json.dumps(fields, ensure_ascii=False, default=str, indent=0)
    teasers = tuple(SPEC.regular_meta(domain, k).title for k in range(2))
    for furniture in (*FURNITURE, *teasers, *also):
        assert furniture not in dumped, furniture


def test_ticker_page_exactly() -> None:
    url, page = _page(stories.TICKER_ID)
    result = extract_article(page, url)
    assert result["text"] == TICKER_TEXT
    assert result["ticker"] == TICKER_ENTRIES
    assert [(e["time"], e["headline"]) for e in result["ticker"]] == [
        ("2025-10-25T21:32:00+02:00", "Selenskyj in Brüssel"),  # "Update, 21:32 Uhr:"
        ("2025-10-25T15:55:00+02:00", "Selenskyj in Brüssel"),  # "Update, 15.55 Uhr:"
        ("2025-10-25T06:10:00+02:00", "Angriffe in der Nacht"),  # "25. Oktober, 6:10 Uhr"
        ("2025-10-24T23:05:00+02:00", "Angriffe in der Nacht"),  # clock went up: a day back
        ("2025-10-23T07:15:30+02:00", "Der Beginn"),  # "Erstmeldung:": the publication
    ]
    for heading in stories.TICKER_CHAPTERS:  # once: not again from the table of contents
        assert result["text"].split("\n\n").count(heading) == 1
    assert result["boxes"] == TICKER_BOXES
    assert result["tables"] == []
    assert result["story_type"] == "ticker"
    assert result["published_at"] == datetime.fromisoformat("2025-10-23T07:15:30+02:00")
    assert result["modified_at"] == datetime.fromisoformat("2025-10-25T21:42:00+02:00")
    assert result["kicker"] is None
    assert result["lead"] == SPEC.article(stories.TICKER_ID).lead
    assert (result["image_caption"], result["image_credit"]) == (
        "Ein Flugabwehrsystem im Einsatz bei Kiew.",
        "Sergei Supinsky/AFP",
    )
    assert result["body_links"] == []
    _no_furniture(result, "fr.de")


def test_explainer_page_exactly() -> None:
    url, page = _page(stories.EXPLAINER_ID)
    result = extract_article(page, url)
    assert result["text"] == EXPLAINER_TEXT
    assert result["boxes"] == EXPLAINER["boxes"]
    assert result["tables"] == EXPLAINER["tables"]
    assert result["ticker"] == []
    assert result["story_type"] == "article"
    assert result["published_at"] == datetime.fromisoformat("2025-09-30T06:00:12+02:00")
    _no_furniture(result, "merkur.de")
    for part in ("39,32", "Rentenwerte", "Hinzuverdienst", "Neben der Altersrente"):
        assert part not in result["text"]  # boxes and tables are their own fields


def test_ticker_updated_past_midnight() -> None:
    """Thirty updates, one every five minutes from 21:47: the newest stamps are on the
    26th, the clock goes up at 23:57 and the older ones fall back to the 25th."""
    url, page = _page(stories.TICKER_ID, revision=30)
    result = extract_article(page, url)
    entries = result["ticker"]
    assert result["modified_at"] == datetime.fromisoformat("2025-10-26T00:12:00+02:00")
    assert len(entries) == 35
    assert [e["time"] for e in entries[:4]] == [
        "2025-10-26T00:12:00+02:00",
        "2025-10-26T00:07:00+02:00",
        "2025-10-26T00:02:00+02:00",
        "2025-10-25T23:57:00+02:00",
    ]
    assert entries[29]["time"] == "2025-10-25T21:47:00+02:00"
    assert entries[0]["text"].startswith("Eintrag 30: ")
    assert all(e["headline"] == "Selenskyj in Brüssel" for e in entries[:32])
    assert entries[30:] == TICKER_ENTRIES


def test_story_pages_over_http_through_the_worker_function(mock_network: MockNetwork) -> None:
    """As the crawl gets them: served by the mock network, extracted by the function the
    extraction pool runs, the four new fields among those the pipeline copies."""
    assert {"boxes", "tables", "ticker", "story_type"} <= set(ARTICLE_FIELDS)
    for article_id, field, value in (
        (stories.TICKER_ID, "text", TICKER_TEXT),
        (stories.TICKER_ID, "ticker", TICKER_ENTRIES),
        (stories.TICKER_ID, "boxes", TICKER_BOXES),
        (stories.EXPLAINER_ID, "text", EXPLAINER_TEXT),
    ):
        meta = mock_network.article(article_id)
        response = fetch(meta.url)
        assert response.status == 200
        ok, fields = extract_in_worker(response.body, meta.url, "utf-8")
        assert ok, fields
        assert fields[field] == value
    # unlisted: a complete crawl of the network does not change
    assert not any(stories.TICKER_ID in url for url in mock_network.expected_urls)


def test_updates_grow_the_served_ticker(mock_network_factory: Callable[..., MockNetwork]) -> None:
    net = mock_network_factory(articles_per_portal=5, seed=3)
    meta = net.article(stories.TICKER_ID)
    for _ in range(2):
        net.update_article(stories.TICKER_ID)
    ok, fields = extract_in_worker(fetch(meta.url).body, meta.url, "utf-8")
    assert ok
    assert [e["time"] for e in fields["ticker"][:3]] == [
        "2025-10-25T21:52:00+02:00",
        "2025-10-25T21:47:00+02:00",
        "2025-10-25T21:32:00+02:00",
    ]
    assert fields["modified_at"] == datetime.fromisoformat("2025-10-25T21:52:00+02:00")
