"""Live tickers: stamps, entries, their dates, the story type; on a real 2020 ticker too."""

from __future__ import annotations

from datetime import datetime, time

import pytest

from newscrawl.extract import extract_article
from newscrawl.extract.ticker import (
    Entry,
    Stamp,
    date_entries,
    group_entries,
    parse_stamp,
    read_ticker,
    story_type,
)
from tests.extract_fixtures import NORDKOREA_2020, NORDKOREA_URL


@pytest.mark.parametrize(
    ("paragraph", "stamp", "rest"),
    [
        ("Update, 21:32 Uhr: Die Lage bleibt ruhig.", Stamp(clock=time(21, 32)),
         "Die Lage bleibt ruhig."),
        ("Update, 15.55 Uhr: Neue Zahlen.", Stamp(clock=time(15, 55)), "Neue Zahlen."),
        ("Update, 25. Oktober, 6:10 Uhr: Morgens.", Stamp(day=25, month=10, clock=time(6, 10)),
         "Morgens."),
        ("Update vom 03. Mai 2020, 16:05 Uhr: Trump.",
         Stamp(day=3, month=5, year=2020, clock=time(16, 5)), "Trump."),
        ("Update, 28.4.2020, 12.45 Uhr: Inmitten.",
         Stamp(day=28, month=4, year=2020, clock=time(12, 45)), "Inmitten."),
        ("Update, Samstag, 25. Oktober, 23:05 Uhr: Spät.",
         Stamp(day=25, month=10, clock=time(23, 5)), "Spät."),
        ("Update, 7. März, 8:00 Uhr: Früh.", Stamp(day=7, month=3, clock=time(8, 0)), "Früh."),
        ("Update am 1.11., 12:00 Uhr: Mittag.", Stamp(day=1, month=11, clock=time(12, 0)),
         "Mittag."),
        ("Update, 21:32 Uhr", Stamp(clock=time(21, 32)), ""),  # the text in the next paragraph
        ("Erstmeldung: Am Morgen begann es.", Stamp(first=True), "Am Morgen begann es."),
        ("Erstmeldung", Stamp(first=True), ""),
        ("Erstmeldung vom 24. Oktober, 9:00 Uhr: Los.",
         Stamp(first=True, day=24, month=10, clock=time(9, 0)), "Los."),
    ],
)  # fmt: skip
def test_stamp_spellings(paragraph: str, stamp: Stamp, rest: str) -> None:
    assert parse_stamp(paragraph) == (stamp, rest)


@pytest.mark.parametrize(
    "paragraph",
    [
        "Update: Der Minister hat sich geäußert.",  # no time: a word, not a stamp
        "Das Update, 21:32 Uhr: kam spät.",  # not at the start
        "Update, 25:10 Uhr: kein Uhrzeit",  # no such time
        "Erstmeldungen gab es viele.",
        "Um 21:32 Uhr: Ende.",
    ],
)
def test_plain_paragraphs_are_no_stamps(paragraph: str) -> None:
    assert parse_stamp(paragraph) is None


def test_entries_run_over_paragraphs_until_the_next_stamp_or_heading() -> None:
    blocks = [
        (False, "Einleitung vor dem ersten Eintrag."),
        (True, "Kapitel Zwei"),
        (False, "Update, 21:32 Uhr: Erster Absatz."),
        (False, "Zweiter Absatz."),
        (False, "Update, 20:00 Uhr:"),
        (False, "Text nach fettem Stempel im eigenen Absatz."),
        (True, "Kapitel Eins"),
        (False, "Absatz unter einer Überschrift vor jedem Stempel."),
        (False, "Erstmeldung: Es begann."),
    ]
    assert group_entries(blocks) == [
        Entry(Stamp(clock=time(21, 32)), "Kapitel Zwei", ["Erster Absatz.", "Zweiter Absatz."]),
        Entry(Stamp(clock=time(20, 0)), "Kapitel Zwei",
              ["Text nach fettem Stempel im eigenen Absatz."]),
        Entry(Stamp(first=True), "Kapitel Eins", ["Es begann."]),
    ]  # fmt: skip


BERLIN_MOD = datetime.fromisoformat("2025-10-25T21:42:00+02:00")
BERLIN_PUB = datetime.fromisoformat("2025-10-23T07:15:30+02:00")


def _entry(stamp: Stamp) -> Entry:
    return Entry(stamp, None, ["x"])


@pytest.mark.parametrize(
    ("stamps", "modified", "published", "times"),
    [
        # clock times only: the modification day, one day back whenever the clock goes up
        ([Stamp(clock=time(21, 32)), Stamp(clock=time(8, 0)), Stamp(clock=time(23, 10)),
          Stamp(clock=time(22, 0))], BERLIN_MOD, BERLIN_PUB,
         ["2025-10-25T21:32:00+02:00", "2025-10-25T08:00:00+02:00",
          "2025-10-24T23:10:00+02:00", "2025-10-24T22:00:00+02:00"]),
        # newest entry later in the day than the modification: it is of the day before
        ([Stamp(clock=time(23, 58))], datetime.fromisoformat("2025-10-25T00:05:00+02:00"),
         None, ["2025-10-24T23:58:00+02:00"]),
        # a dated stamp sets the day for the older ones below it
        ([Stamp(clock=time(9, 0)), Stamp(day=24, month=10, clock=time(6, 10)),
          Stamp(clock=time(5, 0)), Stamp(clock=time(22, 0))], BERLIN_MOD, BERLIN_PUB,
         ["2025-10-25T09:00:00+02:00", "2025-10-24T06:10:00+02:00",
          "2025-10-24T05:00:00+02:00", "2025-10-23T22:00:00+02:00"]),
        # after the switch to winter time the offset is +01:00
        ([Stamp(clock=time(10, 0)), Stamp(day=25, month=10, clock=time(18, 0))],
         datetime.fromisoformat("2025-10-26T10:30:00+01:00"), None,
         ["2025-10-26T10:00:00+01:00", "2025-10-25T18:00:00+02:00"]),
        # a date without a year after the modification day is of the year before
        ([Stamp(clock=time(8, 0)), Stamp(day=30, month=12, clock=time(12, 0))],
         datetime.fromisoformat("2026-01-02T09:00:00+01:00"), None,
         ["2026-01-02T08:00:00+01:00", "2025-12-30T12:00:00+01:00"]),
        # Erstmeldung without a time: the publication, to the second
        ([Stamp(clock=time(8, 0)), Stamp(first=True)], BERLIN_MOD, BERLIN_PUB,
         ["2025-10-25T08:00:00+02:00", "2025-10-23T07:15:30+02:00"]),
        # ... unless the publication was renewed after the updates: then unknown
        ([Stamp(clock=time(8, 0)), Stamp(first=True)], BERLIN_MOD, BERLIN_MOD, [
            "2025-10-25T08:00:00+02:00", None]),
        # modification time in UTC: the day is the Berlin day
        ([Stamp(clock=time(1, 30))], datetime.fromisoformat("2025-10-24T23:45:00+00:00"), None,
         ["2025-10-25T01:30:00+02:00"]),
        # no page time at all: no day for a clock-only stamp
        ([Stamp(clock=time(8, 0)), Stamp(year=2025, day=1, month=5, clock=time(7, 0))], None,
         None, [None, "2025-05-01T07:00:00+02:00"]),
    ],
    ids=["clock-only", "before-midnight", "dated", "dst", "new-year", "first", "renewed",
         "utc", "no-reference"],
)  # fmt: skip
def test_entry_dates(
    stamps: list[Stamp],
    modified: datetime | None,
    published: datetime | None,
    times: list[str | None],
) -> None:
    entries = date_entries([_entry(s) for s in stamps], modified, published)
    assert [e["time"] for e in entries] == times


def test_one_stamp_is_a_correction_not_a_ticker_unless_the_page_says_live() -> None:
    blocks = [(False, "Update, 10:00 Uhr: Korrektur."), (False, "Der Text.")]
    assert read_ticker(blocks, BERLIN_MOD, None, live=False) == []
    assert read_ticker(blocks, BERLIN_MOD, None, live=True) == [
        {"time": "2025-10-25T10:00:00+02:00", "headline": None, "text": "Korrektur.\n\nDer Text."}
    ]
    assert read_ticker([(False, "Kein Stempel.")], BERLIN_MOD, None, live=True) == []


@pytest.mark.parametrize(
    ("schema", "layer", "has_ticker", "expected"),
    [
        ({"NewsArticle"}, None, False, "article"),
        ({"NewsArticle"}, None, True, "ticker"),
        ({"LiveBlogPosting"}, None, False, "ticker"),
        ({"NewsArticle", "LiveBlogPosting"}, None, False, "ticker"),
        ({"NewsArticle"}, "Liveticker", False, "ticker"),
        ({"NewsArticle"}, "gallery", False, "gallery"),
        ({"NewsArticle"}, "article", False, "article"),
        ({"OpinionNewsArticle"}, None, False, "OpinionNewsArticle"),
        (set(), None, False, "article"),
    ],
)
def test_story_type(schema: set[str], layer: str | None, has_ticker: bool, expected: str) -> None:
    assert story_type(frozenset(schema), layer, has_ticker) == expected


def test_the_real_2020_ticker() -> None:
    """fr.de's Kim Jong Un story of 2020 is a ticker of the older layout: five dated
    updates newest first and the first report under a crosshead "Erstmeldung"."""
    result = extract_article(NORDKOREA_2020.read_bytes(), NORDKOREA_URL)
    assert result["story_type"] == "ticker"
    entries = result["ticker"]
    assert [(e["time"], e["headline"], e["text"].count("\n\n") + 1) for e in entries] == [
        ("2020-05-03T16:05:00+02:00", None, 3),
        ("2020-05-03T13:17:00+02:00", None, 4),
        ("2020-05-02T09:20:00+02:00", None, 3),
        ("2020-04-29T17:15:00+02:00", None, 5),
        ("2020-04-28T12:45:00+02:00", None, 5),
        # its JSON-LD publication (2020-05-04 14:50) is after the updates: no time
        (None, None, 10),
    ]
    assert entries[0]["text"].startswith("Kim Jong Uns vermeintliche Rückkehr auf die politische")
    assert entries[4]["text"].endswith("Kim lebe und sei „wohlauf“.")
    assert entries[5]["text"].startswith("Pjöngjang – Südkorea hat mit Vorsicht")
    assert entries[5]["text"].endswith("hieß es. (FR mit dpa)")
    # every entry's paragraphs are the body's, in order, stamps cut off
    body = result["text"]
    for entry in entries:
        assert entry["text"] in body
    assert "Update vom 03. Mai 2020, 16:05 Uhr: Kim Jong Uns" in body


def test_jsonld_live_blog_makes_a_ticker_of_one_stamp() -> None:
    from tests.extract_fixtures import MUSK_2021, MUSK_URL

    page = MUSK_2021.read_text(encoding="utf-8")
    assert page.count('"@type":"NewsArticle"') == 1
    assert extract_article(page, MUSK_URL)["story_type"] == "article"
    live = page.replace('"@type":"NewsArticle"', '"@type":"LiveBlogPosting"')
    assert extract_article(live, MUSK_URL)["story_type"] == "ticker"
    first = "<p class=id-StoryElement-paragraph>"
    assert first in live
    stamped = live.replace(first, first + "<strong>Update, 10:40 Uhr:</strong> ", 1)
    result = extract_article(stamped, MUSK_URL)
    assert [(e["time"], e["headline"]) for e in result["ticker"]] == [
        ("2021-02-14T10:40:00+01:00", None)  # dateModified 11:30 is the day's reference
    ]
    # the entry runs over every paragraph after it: the whole body without the stamp
    assert result["ticker"][0]["text"] == result["text"].removeprefix("Update, 10:40 Uhr: ")
