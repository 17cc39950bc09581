"""The parts: furniture rules, scoring, bylines, kickers, the generic fallback.

Speed is measured by benchmarks/evaluate_extraction.py, not by a timed test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import trafilatura.metadata

from newscrawl.extract import _fill_from_trafilatura, extract_article
from newscrawl.extract.decode import decode_html, parse_html
from newscrawl.extract.furniture import clean_paragraph, normalize_space, strip_affiliate_marks
from newscrawl.extract.metadata import PageMetadata, clean_author, parse_date
from newscrawl.extract.quality import check_snippets, tokens, word_scores
from tests.extract_fixtures import (
    AMBROSIA_2024,
    AMBROSIA_URL,
    GENERIC_PAGE,
    MUSK_2021,
    MUSK_URL,
    NORDKOREA_2020,
    NORDKOREA_URL,
)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("*fr.de ist Teil des bundesweiten Ippen-Redaktionsnetzwerks", ""),
        ("*24auto.de ist Teil des Ippen-Digital-Netzwerks", ""),
        ("*merkur.de ist ein Angebot von IPPEN.MEDIA.", ""),
        ("* tz.de und merkur.de sind Teil des Ippen-Digital-Netzwerks", ""),
        (
            "lesen Sie bei 24auto.de* *24auto.de ist Teil des Ippen-Digital-Netzwerks",
            "lesen Sie bei 24auto.de",
        ),
        ("Donald Trump* wünscht alles Gute.", "Donald Trump wünscht alles Gute."),
        ("„Tesla-CEO*“ Elon Musk", "„Tesla-CEO“ Elon Musk"),
        ("Liebe Leser*innen, 3*4 ist zwölf.", "Liebe Leser*innen, 3*4 ist zwölf."),
    ],
)
def test_affiliate_marks(raw: str, clean: str) -> None:
    assert strip_affiliate_marks(raw) == clean


@pytest.mark.parametrize(
    "line",
    [
        "schließen",
        "Auch interessant",
        "- 5 Kommentare",
        "- Weitere",
        "Rubriklistenbild:\xa0©\xa0KCNA/dpa",
        "© picture alliance/dpa",
        "Das könnte Sie auch interessieren",
        "Mehr zum Thema:",
        "Zur Startseite",
        "Abo-Service",
        "Jetzt unseren Newsletter abonnieren und nichts verpassen",
    ],
)
def test_furniture_lines_are_dropped(line: str) -> None:
    assert clean_paragraph(line) == ""


def test_prose_mentioning_furniture_words_is_kept() -> None:
    line = "Die Kommentare der Leser zeigen, dass das Thema bewegt."
    assert clean_paragraph(line) == line


def test_word_scores_are_bag_of_words() -> None:
    assert tokens("Grüße, nach NORDKOREA!") == ["grüße", "nach", "nordkorea"]
    score = word_scores("a b c d", "a b c e e")
    assert (score.precision, score.recall) == (0.75, 0.6)
    assert score.f1 == pytest.approx(2 * 0.75 * 0.6 / 1.35)
    assert word_scores("", "a").f1 == 0.0


def test_snippet_report() -> None:
    expected = {"with": ["b c"], "without": ["x"], "comments": ["d"]}
    assert check_snippets("a b\xa0c", expected).ok
    report = check_snippets("a x d", expected)
    assert (report.missing, report.leaked) == (["b c"], ["x", "d"])


def _musk_variant(old: str, new: str, drop_jsonld_author: bool = False) -> dict[str, object]:
    html = MUSK_2021.read_text(encoding="utf-8")
    assert old in html
    html = html.replace(old, new)
    if drop_jsonld_author:
        start = html.index('"author":')
        html = html[:start] + html[html.index('"mentions":') :]
    return extract_article(html, MUSK_URL)


def test_byline_text_without_links_loses_its_von() -> None:
    old = html_between(
        MUSK_2021.read_text(encoding="utf-8"), '<ul class="id-Story-authors', "</ul>"
    )
    result = _musk_variant(
        old,
        '<p class="id-Story-authors">vonChristian Schulz und Anna Meier</p>',
        drop_jsonld_author=True,
    )
    assert result["authors"] == ["Christian Schulz", "Anna Meier"]
    assert result["author_urls"] == []


def test_byline_links_give_names_and_urls_without_jsonld() -> None:
    result = _musk_variant("<li class=id-Story-authors-item>", "<li>", drop_jsonld_author=True)
    assert result["authors"] == ["Christian Schulz"]
    assert result["author_urls"] == ["https://www.24auto.de/autoren/christian-schulz-1234/"]


def test_kicker_before_the_headline() -> None:
    result = _musk_variant(
        "<h1 class=id-StoryElement-headline><span class=id-StoryElement-headline-kicker>"
        "Talk mit Russlands Präsident</span>",
        "<p class=id-StoryElement-kicker>Talk mit Russlands Präsident</p>"
        "<h1 class=id-StoryElement-headline>",
    )
    assert result["kicker"] == "Talk mit Russlands Präsident"
    assert result["title"].startswith("Elon Musk möchte Spitzengespräch")


def test_several_jsonld_authors_stay_several() -> None:
    author = (
        '"author":{"@type":"Person","name":"Christian Schulz",'
        '"url":"https://www.24auto.de/autoren/christian-schulz-1234/"}'
    )
    two = f'"author":[{{"@type":"Person","name":"vonAnna Meier"}},{author[9:]}]'
    result = _musk_variant(author, two)
    assert result["authors"] == ["Anna Meier", "Christian Schulz"]
    assert result["author_urls"] == ["https://www.24auto.de/autoren/christian-schulz-1234/"]


def test_unknown_layout_falls_back_to_trafilatura() -> None:
    result = extract_article(GENERIC_PAGE.read_bytes(), "https://stadtblog.example.org/radwege/")
    text = result["text"]
    assert result["title"] == "Radwege in der Stadt: Was die neue Planung bringt"
    assert text.startswith("Die Stadt hat am Montag ihre neue Radverkehrsplanung vorgestellt.")
    assert "Kritik vom Einzelhandel" in text.split("\n\n")
    assert text.endswith("ihre Zustimmung bereits signalisiert haben.")
    for furniture in ("Mehr zum Thema", "Tempo 30", "Impressum", "Stadtblog", "Jana Beispiel"):
        assert furniture not in text
    assert "[Vorlage]" not in text and "über die Vorlage entscheiden" in text
    assert result["body_links"] == ["https://www.example.org/stadtrat/vorlage-2023-117"]
    assert result["authors"] == ["Jana Beispiel"]  # trafilatura's metadata, the last tier
    assert result["published_at"].isoformat() == "2023-09-12T08:30:00+02:00"


def html_between(html: str, start: str, end: str) -> str:
    i = html.index(start)
    return html[i : html.index(end, i) + len(end)]


def test_byline_without_author_links_reads_the_displayed_line() -> None:
    result = _musk_variant(
        '<a class="id-Story-authors-link lp_west_author" '
        "href=https://www.24auto.de/autoren/christian-schulz-1234/ "
        'title="Zur Autorenseite von Christian Schulz">Christian Schulz</a>',
        '<span class="id-Story-authors-name">Christian Schulz</span>',
        drop_jsonld_author=True,
    )
    assert result["authors"] == ["Christian Schulz"]


@pytest.mark.parametrize(
    ("page", "url", "date", "authors", "description_start"),
    [
        (AMBROSIA_2024, AMBROSIA_URL, "2024-04-26", ["Simone Jung"], "Ambrosia"),
        (NORDKOREA_2020, NORDKOREA_URL, "2020-05-04", ["Redaktion"], "Kim Jong Un taucht"),
        (MUSK_2021, MUSK_URL, "2021-02-14", [], "Nichts ist unmöglich"),  # its byline: "Von"
    ],
    ids=["2024", "2020", "musk"],
)  # fmt: skip
def test_the_trafilatura_tier_reads_what_extract_metadata_reads(
    page: Path, url: str, date: str, authors: list[str], description_start: str
) -> None:
    """Its three fields, as trafilatura's whole ``extract_metadata`` gives them."""
    tree = parse_html(decode_html(page.read_bytes()))
    md, found_authors = PageMetadata(), []
    _fill_from_trafilatura(md, tree, url, found_authors)
    whole = trafilatura.metadata.extract_metadata(tree, url)
    assert md.published_at is not None and md.published_at.date().isoformat() == date
    assert md.published_at == parse_date(whole.date)
    assert found_authors == authors == [a for a in map(clean_author, whole.author.split(";")) if a]
    assert md.description == normalize_space(whole.description)
    assert md.description.startswith(description_start)
