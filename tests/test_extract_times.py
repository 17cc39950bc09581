"""The page's times to the second: JSON-LD, dataLayer, meta tags, the displayed stamp."""

from __future__ import annotations

from datetime import datetime

import pytest

from newscrawl.extract import extract_article
from newscrawl.extract.times import (
    displayed_stamps,
    layer_times,
    parse_date,
    parse_displayed,
    with_stamps,
)
from tests.extract_fixtures import MUSK_2021, MUSK_URL

D = datetime.fromisoformat


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-10-25T21:42:07+02:00", D("2025-10-25T21:42:07+02:00")),
        ("2024-04-26T20:44:00+0200", D("2024-04-26T20:44:00+02:00")),
        ("2025-10-25T21:42:07", D("2025-10-25T21:42:07+02:00")),  # no offset: Berlin
        ("2025-12-01 08:00", D("2025-12-01T08:00:00+01:00")),
        ("2025-10-25T19:42:07Z", D("2025-10-25T19:42:07+00:00")),
        (1761421327000, D("2025-10-25T21:42:07+02:00")),  # epoch milliseconds
        ("gestern", None),
        ("", None),
        (None, None),
        (True, None),
    ],
)
def test_parse_date(value: object, expected: datetime | None) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("25.10.2025, 21:42 Uhr", D("2025-10-25T21:42:00+02:00")),
        ("Stand: 01.12.2025 um 7.05 Uhr", D("2025-12-01T07:05:00+01:00")),
        ("25.10.2025 21:42:09", D("2025-10-25T21:42:09+02:00")),
        ("31.02.2025, 10:00 Uhr", None),
        ("25.10.2025", None),  # a day alone is the fallback's business
    ],
)
def test_parse_displayed(text: str, expected: datetime | None) -> None:
    assert parse_displayed(text) == expected


@pytest.mark.parametrize(
    ("layer", "expected"),
    [
        ({"story.publicationDate": "2025-10-25T08:00:05+02:00",
          "story.lastModified": "2025-10-25T21:42:07+02:00", "story.onlineId": 1},
         (D("2025-10-25T08:00:05+02:00"), D("2025-10-25T21:42:07+02:00"))),
        ({"story.createdAt": 1761372005000},
         (D("2025-10-25T08:00:05+02:00"), None)),
        ({"cms.cid": 317, "story.isPaywallContent": False}, (None, None)),
        ({"story.publishDate": "kaputt"}, (None, None)),
    ],
)  # fmt: skip
def test_layer_times(layer: dict[str, object], expected: tuple) -> None:
    assert layer_times(layer) == expected


PUB = D("2025-10-25T08:00:05+02:00")
STAND = D("2025-10-25T21:42:00+02:00")


@pytest.mark.parametrize(
    ("published", "modified", "stamps", "expected"),
    [
        (PUB, None, [("stand", STAND)], (PUB, STAND)),
        (PUB, None, [("stand", PUB)], (PUB, None)),  # "Stand" = publication: no change
        (None, None, [("stand", STAND)], (STAND, None)),
        (None, None, [("erstellt", PUB), ("aktualisiert", STAND)], (PUB, STAND)),
        (PUB, STAND, [("stand", D("2025-10-26T10:00:00+01:00"))], (PUB, STAND)),
        (None, None, [], (None, None)),
    ],
)
def test_structured_times_come_first_then_the_displayed_stamp(
    published: datetime | None,
    modified: datetime | None,
    stamps: list[tuple[str, datetime]],
    expected: tuple,
) -> None:
    assert with_stamps(published, modified, stamps) == expected


def test_displayed_stamp_without_jsonld_dates() -> None:
    """No dates in the JSON-LD and no meta tags: the visible "Erstellt:" stamp, to the
    minute, comes before trafilatura's day-level guess."""
    html = MUSK_2021.read_text(encoding="utf-8")
    for jsonld_date in (
        '"datePublished":"2021-02-14T10:12:00+0100"',
        '"dateModified":"2021-02-14T11:30:00+0100"',
        "<time datetime=2021-02-14T10:12:00+01:00>",
    ):
        assert jsonld_date in html
        html = html.replace(jsonld_date, "<time>" if jsonld_date[0] == "<" else '"x":"y"')
    result = extract_article(html, MUSK_URL)
    assert result["published_at"] == D("2021-02-14T10:12:00+01:00")
    assert result["modified_at"] is None
    assert extract_article(MUSK_2021.read_bytes(), MUSK_URL)["modified_at"] == D(
        "2021-02-14T11:30:00+01:00"
    )


def test_displayed_stamps_are_read_with_their_labels() -> None:
    from newscrawl.extract.decode import parse_html

    tree = parse_html(
        "<html><body><article><p class=id-Story-timestamp><span class=id-Story-timestamp-content>"
        "<span class=id-Story-timestamp-content-prefix>Erstellt: </span>"
        '<time datetime="2025-10-23 07:15">23.10.2025, 07:15 Uhr</time></span></p>'
        "<p class=id-Story-timestamp><span class=id-Story-timestamp-content>Stand: "
        "<time>25.10.2025, 21:42 Uhr</time></span></p>"
        "<p>Termin am <time datetime='2025-11-01'>1. November</time></p></article></body></html>"
    )
    assert displayed_stamps(tree) == [
        ("erstellt", D("2025-10-23T07:15:00+02:00")),
        ("stand", D("2025-10-25T21:42:00+02:00")),
    ]
