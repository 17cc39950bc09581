"""Fact boxes and tables (``parts.py``), and where they stand in the body walk."""

from __future__ import annotations

from typing import Any

import lxml.html
import pytest

from newscrawl.extract import extract_article
from newscrawl.extract.parts import part_kind, parts_text, read_box, read_table


def _el(markup: str) -> lxml.html.HtmlElement:
    return lxml.html.fragment_fromstring(markup)


@pytest.mark.parametrize(
    ("classes", "kind"),
    [
        ("id-StoryElement-factBox", "box"),
        ("id-StoryElement-factBox id-StoryElement-factBox--grey", "box"),
        ("id-StoryElement-table", "table"),
        ("foo id-StoryElement-table", "table"),
        ("id-StoryElement-factBox-headline", None),
        ("id-StoryElement-table-row", None),
        ("id-StoryElement-tableOfContents", None),
        ("id-StoryElement-paragraph", None),
        (None, None),
    ],
)
def test_part_kind(classes: str | None, kind: str | None) -> None:
    assert part_kind(classes) == kind


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        (
            "<div class=id-StoryElement-factBox><h3 class=id-StoryElement-factBox-headline>"
            "Fakten</h3><p class=id-StoryElement-factBox-paragraph>Eins.</p>"
            "<p class=id-StoryElement-factBox-paragraph>Zwei&nbsp; Punkte.</p></div>",
            {"title": "Fakten", "text": "Eins.\n\nZwei Punkte."},
        ),
        (  # a list in the box: one line per item
            "<div class=id-StoryElement-factBox><p class=id-StoryElement-factBox-headline>"
            "Termine</p><ul><li>Montag: Anhörung</li><li>Dienstag: Abstimmung</li></ul></div>",
            {"title": "Termine", "text": "Montag: Anhörung\nDienstag: Abstimmung"},
        ),
        (  # no headline
            "<div class=id-StoryElement-factBox><p class=id-StoryElement-factBox-paragraph>"
            "Nur Text.</p></div>",
            {"title": None, "text": "Nur Text."},
        ),
        (  # no marked paragraphs: the box's text without its title
            "<div class=id-StoryElement-factBox><h3 class=id-StoryElement-factBox-headline>"
            "Info</h3><div>Die Hotline ist rund um die Uhr erreichbar.</div></div>",
            {"title": "Info", "text": "Die Hotline ist rund um die Uhr erreichbar."},
        ),
        (  # furniture inside a box stays out
            "<div class=id-StoryElement-factBox><h3 class=id-StoryElement-factBox-headline>"
            "Zahlen</h3><p class=id-StoryElement-factBox-paragraph>Drei von vier.</p>"
            "<figure class=id-StoryElement-image><figcaption>Bild © dpa</figcaption></figure>"
            "<div class=OUTBRAIN><p class=id-StoryElement-factBox-paragraph>Anzeige</p></div>"
            "</div>",
            {"title": "Zahlen", "text": "Drei von vier."},
        ),
    ],
    ids=["paragraphs", "list", "untitled", "unmarked", "furniture"],
)
def test_read_box(markup: str, expected: dict[str, Any]) -> None:
    assert read_box(_el(markup)) == expected


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        (  # the network's classes, header in thead
            "<div class=id-StoryElement-table><div class=id-StoryElement-table-wrapper><table>"
            "<thead><tr class=id-StoryElement-table-row><th class=id-StoryElement-table-cell>"
            "Land</th><th class=id-StoryElement-table-cell>Sitze</th></tr></thead><tbody>"
            "<tr class=id-StoryElement-table-row><td class=id-StoryElement-table-cell>Bayern"
            "</td><td class=id-StoryElement-table-cell>46</td></tr></tbody></table></div></div>",
            {"caption": None, "rows": [["Land", "Sitze"], ["Bayern", "46"]]},
        ),
        (  # a <caption>; a footer before the body in the markup: the header still first
            "<div class=id-StoryElement-table><table><caption>Ergebnis</caption><tfoot><tr>"
            "<td>Summe</td><td>3</td></tr></tfoot><tbody><tr><td>A</td><td>1</td></tr></tbody>"
            "<thead><tr><th>Name</th><th>Zahl</th></tr></thead></table></div>",
            {"caption": "Ergebnis", "rows": [["Name", "Zahl"], ["Summe", "3"], ["A", "1"]]},
        ),
        (  # rows and cells as divs; empty row and empty cells
            "<div class=id-StoryElement-table><p class=id-StoryElement-table-headline>Preise</p>"
            "<div class=id-StoryElement-table-row><span class=id-StoryElement-table-cell>Brot"
            "</span><span class=id-StoryElement-table-cell>3,20\xa0€</span></div>"
            "<div class=id-StoryElement-table-row><span class=id-StoryElement-table-cell> "
            "</span></div><div class=id-StoryElement-table-row><span class=id-StoryElement-"
            "table-cell>Milch</span><span class=id-StoryElement-table-cell></span></div></div>",
            {"caption": "Preise", "rows": [["Brot", "3,20 €"], ["Milch", ""]]},
        ),
        ("<div class=id-StoryElement-table><table></table></div>", {"caption": None, "rows": []}),
    ],
    ids=["network", "caption-tfoot", "divs", "empty"],
)
def test_read_table(markup: str, expected: dict[str, Any]) -> None:
    assert read_table(_el(markup)) == expected


def _story(inner: str) -> str:
    return (
        "<!DOCTYPE html><html lang=de><head><title>T</title>"
        '<script type="application/ld+json">{"@type":"NewsArticle","headline":"Eine Geschichte",'
        '"datePublished":"2025-10-25T08:00:00+02:00"}</script></head><body>'
        "<article class='id-Story idjs-Story'><h1 class=id-StoryElement-headline>Eine Geschichte"
        f"</h1>{inner}</article></body></html>"
    )


def test_parts_leave_the_body_in_page_order_and_empty_ones_are_dropped() -> None:
    page = _story(
        "<p class=id-StoryElement-paragraph>Vorher steht dieser Absatz im Text.</p>"
        "<div class=id-StoryElement-factBox><h3 class=id-StoryElement-factBox-headline>Erste"
        "</h3><p class=id-StoryElement-paragraph>Ein Absatz im Kasten.</p></div>"
        "<div class=id-StoryElement-factBox></div>"
        "<div class=id-StoryElement-table><table><tr><td>x</td></tr></table></div>"
        "<div class=id-StoryElement-table><table><tr><td> </td></tr></table></div>"
        "<h2 class=id-StoryElement-crosshead>Danach</h2>"
        "<div class=id-StoryElement-factBox><p class=id-StoryElement-factBox-paragraph>Zweite"
        "</p></div><p class=id-StoryElement-paragraph>Nachher steht dieser Absatz.</p>"
    )
    result = extract_article(page, "https://www.fr.de/politik/eine-geschichte-94000099.html")
    assert result["text"] == (
        "Vorher steht dieser Absatz im Text.\n\nDanach\n\nNachher steht dieser Absatz."
    )
    assert result["boxes"] == [
        {"title": "Erste", "text": "Ein Absatz im Kasten."},
        {"title": None, "text": "Zweite"},
    ]
    assert result["tables"] == [{"caption": None, "rows": [["x"]]}]
    assert result["story_type"] == "article"


def test_a_box_inside_furniture_is_no_box() -> None:
    page = _story(
        "<p class=id-StoryElement-paragraph>Der eigentliche Text der Geschichte.</p>"
        "<div class=id-Recommendation><div class=id-StoryElement-factBox><p class="
        "id-StoryElement-factBox-paragraph>Werbung</p></div></div>"
    )
    result = extract_article(page, "https://www.fr.de/politik/eine-geschichte-94000099.html")
    assert result["boxes"] == []
    assert result["text"] == "Der eigentliche Text der Geschichte."


def test_parts_text_for_the_search() -> None:
    boxes = [{"title": "Fakten", "text": "Eins.\n\nZwei."}, {"title": None, "text": "Drei."}]
    tables = [
        {"caption": "Preise", "rows": [["Ware", "Preis"], ["Brot", ""]]},
        {"caption": None, "rows": [["a", "b"]]},
    ]
    assert parts_text(boxes, tables) == (
        "Fakten\n\nEins.\n\nZwei.\n\nDrei.\n\nPreise\nWare | Preis\nBrot\n\na | b"
    )
    assert parts_text([], []) == ""
