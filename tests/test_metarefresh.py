"""Meta-refresh redirects read from the head: the same text and decisions as Scrapy's own.

Each case runs through Scrapy's ``MetaRefreshMiddleware`` and newscrawl's, built from
the same settings; the two must agree on the head they read and on what they return.
"""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.utils.test import get_crawler

from newscrawl.downloadermiddlewares.metarefresh import (
    HEAD_CHARACTERS,
    HeadMetaRefreshMiddleware,
    head_text,
)
from tests.extract_fixtures import FIXTURES

URL = "http://127.0.0.2:8765/politik/x-90000001.html"
REFRESH = '<meta http-equiv="refresh" content="0; url=/politik/y-90000002.html">'
TARGET = "http://127.0.0.2:8765/politik/y-90000002.html"
FILLER = "Grüße aus Köln – „Zitat“ € " * 2000  # several bytes a character in most encodings


def html(head: str = "", body: str = FILLER) -> str:
    return f"<html><head><title>t</title>{head}</head><body><p>{body}</p></body></html>"


def response(text: str, encoding: str, declared: bool = True, bom: bytes = b"") -> HtmlResponse:
    headers = {"Content-Type": f"text/html; charset={encoding}" if declared else "text/html"}
    body = bom + text.encode(encoding)
    return HtmlResponse(url=URL, body=body, headers=headers, request=Request(URL))


CASES = {
    "utf-8": response(html(REFRESH), "utf-8"),
    "utf-8, refresh after the head": response(html(body=FILLER + REFRESH), "utf-8"),
    # A four-byte character astride every byte offset near the cut: 1 to 4 bytes of it.
    **{
        f"utf-8, emoji at +{shift}": response(html(REFRESH, "x" * shift + "😀" * 5000), "utf-8")
        for shift in range(4)
    },
    "utf-16 with its BOM": response(html(REFRESH), "utf-16"),
    "utf-32-le": response(html(REFRESH), "utf-32-le"),
    "windows-1252": response(html(REFRESH, "Grüße " * 3000), "cp1252"),
    "utf-7 (read as windows-1252 by w3lib)": response(html(REFRESH, "äöü€" * 4000), "utf-7"),
    "unicode-escape (six bytes a character)": response(html(REFRESH, "€" * 5000), "unicode-escape"),
    "undeclared, inferred": response(html(REFRESH), "utf-8", declared=False),
    "utf-8 BOM": response(html(REFRESH), "utf-8", declared=False, bom=b"\xef\xbb\xbf"),
    "short page": response(html(REFRESH, "kurz"), "utf-8"),
    "relative to a <base href>": response(
        html('<base href="http://127.0.0.3:8765/lokales/">' + REFRESH.replace("/politik/", "")),
        "utf-8",
    ),
    "no refresh": response(html(), "utf-8"),
    "refresh to an ftp server": response(
        html('<meta http-equiv="refresh" content="0; url=ftp://127.0.0.2/f">'), "utf-8"
    ),
    "refresh delayed past METAREFRESH_MAXDELAY": response(
        html('<meta http-equiv="refresh" content="500; url=/y-90000002.html">'), "utf-8"
    ),
    **{
        f"fixture {path.name}": HtmlResponse(
            url=URL,
            body=path.read_bytes(),
            headers={"Content-Type": "text/html; charset=utf-8"},
            request=Request(URL),
        )
        for path in sorted(FIXTURES.glob("*.html"))
    },
}


def fresh(original: HtmlResponse) -> HtmlResponse:
    """The same response, nothing decoded yet (each middleware gets its own)."""
    return original.replace()


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_head_is_the_first_characters_of_the_text(name: str) -> None:
    case = CASES[name]
    assert head_text(fresh(case)) == fresh(case).text[:HEAD_CHARACTERS]


def _outcome(result: Request | Response) -> tuple[str, str]:
    return ("request", result.url) if isinstance(result, Request) else ("response", result.url)


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_decision_is_scrapys(name: str) -> None:
    crawler = get_crawler(settings_dict={"METAREFRESH_MAXDELAY": 100})
    scrapys = MetaRefreshMiddleware.from_crawler(crawler)
    ours = HeadMetaRefreshMiddleware.from_crawler(crawler)
    case = CASES[name]
    expected = scrapys.process_response(case.request, fresh(case))
    assert _outcome(ours.process_response(case.request, fresh(case))) == _outcome(expected)


def test_the_cases_redirect_where_they_should() -> None:
    # Guards the comparison above: it compared redirects, and pages that are none.
    ours = HeadMetaRefreshMiddleware.from_crawler(get_crawler(settings_dict={}))
    redirected = {
        name for name, case in CASES.items()
        if isinstance(ours.process_response(case.request, fresh(case)), Request)
    }  # fmt: skip
    assert redirected == {
        "utf-8", "utf-16 with its BOM", "utf-32-le", "windows-1252", "undeclared, inferred",
        "utf-8 BOM", "short page", "utf-7 (read as windows-1252 by w3lib)",
        "unicode-escape (six bytes a character)", "relative to a <base href>",
        *(f"utf-8, emoji at +{shift}" for shift in range(4)),
    }  # fmt: skip
    result = ours.process_response(CASES["utf-8"].request, fresh(CASES["utf-8"]))
    assert isinstance(result, Request) and result.url == TARGET
    based = CASES["relative to a <base href>"]
    result = ours.process_response(based.request, fresh(based))
    assert isinstance(result, Request)
    assert result.url == "http://127.0.0.3:8765/lokales/y-90000002.html"


@pytest.mark.parametrize(
    ("name", "whole"),
    [("utf-8", False), ("utf-16 with its BOM", False), ("utf-8, emoji at +3", False),
     ("unicode-escape (six bytes a character)", True), ("short page", True)],
)  # fmt: skip
def test_only_the_head_is_decoded_where_its_bytes_suffice(name: str, whole: bool) -> None:
    case = fresh(CASES[name])
    head_text(case)
    assert (case._cached_ubody is not None) is whole  # what TextResponse.text keeps


def test_not_html_passes_untouched() -> None:
    ours = HeadMetaRefreshMiddleware.from_crawler(get_crawler(settings_dict={}))
    text = TextResponse(url=URL, body=REFRESH.encode(), encoding="utf-8", request=Request(URL))
    assert ours.process_response(text.request, text) is text
