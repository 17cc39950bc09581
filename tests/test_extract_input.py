"""Bad and odd input: every failure is an ExtractionError with a reason slug."""

from __future__ import annotations

import pickle
import random
import re

import pytest

from newscrawl.extract import ExtractionError, extract_article
from tests.extract_fixtures import (
    AMBROSIA_2024,
    AMBROSIA_URL,
    MUSK_2021,
    MUSK_URL,
    SECTION_PAGE,
    ambrosia_expected,
)

TITLE = "Warum Ambrosia in deutschen Gärten zur Bedrohung wird"


def _reason(html: str | bytes, url: str = AMBROSIA_URL) -> str:
    with pytest.raises(ExtractionError) as caught:
        extract_article(html, url)
    assert str(caught.value)  # a message to log, not just the slug
    return caught.value.reason


@pytest.mark.parametrize("html", ["", b"", "   \n\t ", b"\r\n  "])
def test_empty(html: str | bytes) -> None:
    assert _reason(html) == "empty"


@pytest.mark.parametrize(
    "html",
    [
        random.Random(7).randbytes(20_000),
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(2000),
        b"\x1f\x8b\x08\x00" + random.Random(3).randbytes(5000),  # gzip not unpacked
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
        "\x00\x01\x02 text with NULs \x00\x00",
    ],
)
def test_binary_junk(html: str | bytes) -> None:
    assert _reason(html) == "binary"


def test_truncated_document() -> None:
    raw = AMBROSIA_2024.read_bytes()
    assert _reason(raw[: len(raw) // 2]) == "truncated"


def test_section_page_is_not_an_article() -> None:
    assert _reason(SECTION_PAGE.read_bytes(), "https://www.fr.de/politik/") == "not_article"


@pytest.mark.parametrize(
    "html",
    [
        "<html><body><p>Nur ein Satz.</p></body></html>",
        "plain text, no markup at all </body>",
    ],
)
def test_page_without_article_signals_is_not_an_article(html: str) -> None:
    assert _reason(html) == "not_article"


def test_article_without_text() -> None:
    html = (
        '<html><head><meta property="og:type" content="article"></head>'
        "<body><h1>Nur eine Überschrift</h1></body></html>"
    )
    assert _reason(html) == "no_text"


@pytest.mark.parametrize("html", [None, 12345, ["<html>"]])
def test_wrong_type_is_wrapped(html: object) -> None:
    assert _reason(html) == "unparsable"  # type: ignore[arg-type]


def test_reason_survives_pickling() -> None:
    error = pickle.loads(pickle.dumps(ExtractionError("binary", "page is binary, not HTML")))
    assert (error.reason, str(error)) == ("binary", "page is binary, not HTML")


# --- charsets ---------------------------------------------------------------------


def _musk_in(encoding: str, declare: str | None) -> bytes:
    html = MUSK_2021.read_text(encoding="utf-8").replace("<meta charset=utf-8>", "")
    if declare:
        html = html.replace("<head>", f'<head><meta charset="{declare}">', 1)
    return html.encode(encoding)


def test_2024_page_without_charset_is_read_as_utf8() -> None:
    assert b"charset" not in AMBROSIA_2024.read_bytes()[:3000]
    result = extract_article(AMBROSIA_2024.read_bytes(), AMBROSIA_URL)
    assert result["title"] == TITLE
    assert result["lead"] == ambrosia_expected()["lead"][0]


@pytest.mark.parametrize(
    ("encoding", "declare"),
    [
        ("cp1252", "windows-1252"),
        ("cp1252", "ISO-8859-1"),  # WHATWG: means Windows-1252 („“ and – included)
        ("cp1252", None),  # missing: not UTF-8, so Windows-1252
        ("utf-8", "iso-8859-1"),  # wrong: the bytes are UTF-8
        ("utf-8", None),
    ],
)
def test_declared_missing_and_wrong_charsets(encoding: str, declare: str | None) -> None:
    result = extract_article(_musk_in(encoding, declare), MUSK_URL)
    assert result["kicker"] == "Talk mit Russlands Präsident"
    assert "„Clubhouse“" in result["text"]
    assert "Überraschung gut: Der für seine oft visionären" in result["text"]


def test_str_decoded_with_the_wrong_charset_is_repaired() -> None:
    mojibake = AMBROSIA_2024.read_bytes().decode("cp1252", errors="replace")
    assert "GÃ¤rten" in mojibake
    assert extract_article(mojibake, AMBROSIA_URL)["title"] == TITLE


def test_unrepairable_mojibake_is_refused() -> None:
    text = AMBROSIA_2024.read_text(encoding="utf-8")
    broken = text.replace("Gärten", "GÃ¤rten").replace("ü", "Ã¼ß")
    assert _reason(broken) == "charset"


# --- malformed structured data ------------------------------------------------------


def test_malformed_jsonld_keeps_the_rest() -> None:
    html = AMBROSIA_2024.read_text(encoding="utf-8")
    broken = html.replace('"@type":"NewsArticle"', '"@type":"NewsArticle",,,{')
    result = extract_article(broken, AMBROSIA_URL)
    assert result["title"] == TITLE
    assert result["authors"] == ["Simone Jung"]  # from the displayed byline
    assert result["author_urls"] == ["https://www.fr.de/autoren/12611/"]
    assert result["article_id"] == "93036630"
    assert result["paywall"] is False
    assert result["published_at"] is not None  # trafilatura's metadata, the last tier


def test_malformed_datalayer_keeps_the_rest() -> None:
    html = AMBROSIA_2024.read_text(encoding="utf-8")
    broken = re.sub(r'"de\.ippen-digital\.story\.isPaywallContent":false', '"x":}{', html)
    broken = broken.replace('{"de.ippen-digital.cms.cid":317}', '{"de.ippen-digital.cms.cid":')
    result = extract_article(broken, AMBROSIA_URL)
    assert result["article_id"] == "93036630"
    assert result["paywall"] is None
    assert result["cms_client_id"] is None
    assert result["section"] == ["Ratgeber", "Wohnen"]


def test_xml_declaration_in_str_is_accepted() -> None:
    html = '<?xml version="1.0" encoding="utf-8"?>\n' + MUSK_2021.read_text(encoding="utf-8")
    assert extract_article(html, MUSK_URL)["article_id"] == "90206543"
