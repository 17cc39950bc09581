"""The network's URL grammar."""

import pytest

from newscrawl.urls import article_id, host_of, is_article_url, strip_url

ARTICLES = [
    (
        "https://www.fr.de/ratgeber/wohnen/ambrosia-giftig-garten-allergische-reaktionen-pflanze"
        "-erkennen-bekaempfen-zr-93036630.html",
        "93036630",
    ),
    ("https://www.merkur.de/politik/some-story-92243692.html", "92243692"),
    (
        "https://www.fr.de/politik/kim-jong-un-nordkorea-bilder-diktator-donald-trump-zr-13680734.html",
        "13680734",
    ),
    ("https://www.24auto.de/news/elon-musk-putin-clubhouse-1234567.html", "1234567"),
    ("https://www.tz.de/muenchen/corona-2020-regeln-sp-123456789.html", "123456789"),
    ("https://www.fr.de/x-93036630.html?utm_source=rss#id-Comments", "93036630"),
    ("http://127.0.0.2:8765/politik/story-zr-10000001.html", "10000001"),
]

NOT_ARTICLES = [
    "https://www.fr.de/",
    "https://www.fr.de/politik/",
    "https://www.fr.de/autoren/12611/",
    "https://www.fr.de/autoren/simone-jung-per40257/",
    "https://www.fr.de/politik/donald-trump-sti1515528/",
    "https://www.fr.de/bilder/2020/04/21/13680734/1490747069-jong-2Lea.jpg",
    "https://www.fr.de/assets/images/34/432/34432223-mann-12345678.html",
    "https://www.fr.de/rssfeed.rdf",
    "https://www.fr.de/news.xml",
    "https://www.fr.de/sitemap-index.xml",
    "https://www.fr.de/politik/story-123456.html",  # six digits: too short for an online id
    "https://www.fr.de/politik/story-1234567890.html",  # ten digits: too long
    "https://www.fr.de/politik/story-zr-93036630.htm",
    "mailto:redaktion@fr.de",
    "ftp://www.fr.de/x-93036630.html",
    "not a url",
]


@pytest.mark.parametrize(("url", "expected"), ARTICLES)
def test_article_id_of_article_urls(url: str, expected: str) -> None:
    assert article_id(url) == expected
    assert is_article_url(url)


@pytest.mark.parametrize("url", NOT_ARTICLES)
def test_non_articles_have_no_id(url: str) -> None:
    assert article_id(url) is None
    assert not is_article_url(url)


def test_editorial_code_longer_than_three_letters_is_part_of_the_slug() -> None:
    assert article_id("https://www.fr.de/a/story-news-93036630.html") == "93036630"


def test_strip_url_drops_query_fragment_default_port_and_case_of_host() -> None:
    assert (
        strip_url("HTTPS://WWW.FR.DE:443/Politik/x-zr-93036630.html?utm_source=rss&a=1#id-Comments")
        == "https://www.fr.de/Politik/x-zr-93036630.html"
    )
    assert (
        strip_url("http://127.0.0.2:8765/a-1234567.html?x")
        == "http://127.0.0.2:8765/a-1234567.html"
    )
    assert strip_url("https://www.fr.de") == "https://www.fr.de/"


def test_host_of_keeps_non_default_ports() -> None:
    assert host_of("http://127.0.0.2:8765/x") == "127.0.0.2:8765"
    assert host_of("http://WWW.Merkur.de:80/x") == "www.merkur.de"
    assert host_of("https://www.merkur.de:8443/x") == "www.merkur.de:8443"
