"""What the spider reads of a page without parsing it: canonical URL and article links.

Compared with what the parsed tree gives (lxml through Scrapy's selectors, which the
spider used before) on the real fixture pages, and on the markup variants a regex
could get wrong.
"""

from __future__ import annotations

import re

import pytest
from scrapy.http import HtmlResponse

from newscrawl.pipelines.extract import decode_page
from newscrawl.spiders.links import article_hrefs, canonical_href
from tests.extract_fixtures import FIXTURES

PAGE = "https://www.fr.de/ratgeber/ambrosia-giftig-garten-zr-93036630.html"


def page(body: str | bytes, url: str = PAGE, charset: str = "utf-8") -> HtmlResponse:
    data = body.encode(charset) if isinstance(body, str) else body
    headers = {"Content-Type": f"text/html; charset={charset}"}
    return HtmlResponse(url=url, body=data, headers=headers)


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.html")))
def test_fixture_pages_read_as_the_parsed_tree_reads_them(name: str) -> None:
    response = page((FIXTURES / name).read_bytes())
    tree_links = [
        response.urljoin(href.strip())
        for href in response.xpath("//a/@href").getall()
        if "-" in href and ".html" in href
    ]
    found = article_hrefs(response)
    assert found == [url for url in tree_links if url in set(found)]
    assert len(found) == len([u for u in tree_links if _article_shaped(u)])
    tree_canonical = response.xpath("//link[@rel='canonical']/@href").get()
    expected = response.urljoin(tree_canonical.strip()) if tree_canonical else None
    assert canonical_href(response) == expected


ARTICLE_LINKS = 9


def _article_shaped(url: str) -> bool:
    return re.search(r"-\d{7,9}\.html(?:[?#]|\s*$)", url) is not None


def test_the_fixture_pages_have_links_and_a_canonical() -> None:
    # Guards the comparison above: it must have compared something.
    response = page((FIXTURES / "fr.de-2024-ambrosia.html").read_bytes())
    assert canonical_href(response) == (
        "https://www.extratipp.com/service/ambrosia-giftig-garten-allergische-reaktionen"
        "-pflanze-erkennen-bekaempfen-zr-93036630.html"
    )  # a syndicated copy: its canonical names the original on another portal
    assert len(article_hrefs(response)) == ARTICLE_LINKS


def test_markup_variants() -> None:
    body = """<html><head>
      <link href="/x-11111111.html" rel="alternate">
      <LINK data-x=1 REL='canonical' HREF='https://www.merkur.de/a/b-93036630.html?x=1&amp;y=2'>
    </head><body>
      <a class="teaser" href="/politik/eins-12345678.html">eins</a>
      <a href='https://www.tz.de/zwei-23456789.html?utm_source=x&amp;b=1'>zwei</a>
      <a href=drei-34567890.html>drei</a>
      <a data-href="/nicht-45678901.html" href="/kein-artikel.html">no</a>
      <a class="x"href="/vier-56789012.html#comments">vier</a>
      <a href="/section/">section</a>
      <area href="/fuenf-67890123.html">
      <a href="/sechs-78901234&#46;html">sechs, its dot a character reference</a>
      <a href="  /sieben-89012345.html\u00a0">sieben, in a no-break space</a>
    </body></html>"""
    response = page(body, url="https://www.fr.de/ordner/seite-99999999.html")
    assert canonical_href(response) == "https://www.merkur.de/a/b-93036630.html?x=1&y=2"
    assert article_hrefs(response) == [
        "https://www.fr.de/politik/eins-12345678.html",
        "https://www.tz.de/zwei-23456789.html?utm_source=x&b=1",
        "https://www.fr.de/ordner/drei-34567890.html",
        "https://www.fr.de/vier-56789012.html#comments",
        "https://www.fr.de/sechs-78901234.html",
        "https://www.fr.de/sieben-89012345.html",
    ]


def test_base_href_and_no_canonical() -> None:
    body = '<html><head><base href="https://www.hna.de/kassel/"></head><body>'
    body += '<a href="lokal-11223344.html">x</a></body></html>'
    response = page(body, url="https://www.hna.de/x-1.html")
    assert canonical_href(response) is None
    assert article_hrefs(response) == ["https://www.hna.de/kassel/lokal-11223344.html"]


def test_a_non_utf8_page_is_decoded_in_the_worker_as_scrapy_decodes_it() -> None:
    body = "<html><head><title>Straße „Gärten“</title></head><body>Grüße</body></html>"
    response = page(body, charset="windows-1252")
    assert decode_page(response.body, response.encoding) == response.text
    assert decode_page(response.text, None) == response.text
    meta_only = HtmlResponse(url=PAGE, body=b'<meta charset="iso-8859-1"><p>Gr\xfc\xdfe</p>')
    assert decode_page(meta_only.body, meta_only.encoding) == meta_only.text
    assert "Grüße" in meta_only.text
