"""The pure parts of the hostile-source bounds, as tables: origins, failure reasons,
feeds read one item at a time, and charsets that lie. End to end: test_hostile_sources.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.exceptions import DownloadCancelledError, DownloadTimeoutError, IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import ConnectionRefusedError as TwistedRefused

from newscrawl.extract.decode import decode_html
from newscrawl.network import Network, RegistryError, Site
from newscrawl.spiders.failures import Failed, classify
from newscrawl.spiders.feeds import declares_entities, feed_items, feed_root
from newscrawl.urls import origin_of
from tests.mocknet.hostile import BILLION_LAUGHS


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://www.fr.de/politik/x-12345678.html", "https://www.fr.de:443"),
        ("HTTPS://WWW.FR.DE:443/", "https://www.fr.de:443"),
        ("http://www.fr.de/", "http://www.fr.de:80"),
        ("http://127.0.0.2:8765/a?b#c", "http://127.0.0.2:8765"),
        ("http://127.0.0.2:5432/", "http://127.0.0.2:5432"),
        ("file:///etc/passwd", ""),
        ("http://[::1", ""),
        ("http://127.0.0.2:99999/", ""),
    ],
)
def test_origin_is_scheme_host_and_port(url: str, origin: str) -> None:
    assert origin_of(url) == origin


def test_site_at_matches_the_origin_exactly() -> None:
    network = Network([Site("fr.de", "FR", "http://127.0.0.2:8765")])
    assert network.site_at("http://127.0.0.2:8765/politik/").domain == "fr.de"
    for url in ("http://127.0.0.2:5432/", "https://127.0.0.2:8765/", "http://127.0.0.9:8765/",
                "http://127.0.0.1:8765/", "file:///etc/passwd"):  # fmt: skip
        assert network.site_at(url) is None, url


@pytest.mark.parametrize(
    ("line", "kind", "url"),
    [
        ('feeds = ["file:///etc/passwd"]', "feed", "file:///etc/passwd"),
        ('sitemaps = ["//127.0.0.9/s.xml"]', "sitemap", "http://127.0.0.9/s.xml"),
        ('start_pages = ["http://127.0.0.2:1/"]', "start page", "http://127.0.0.2:1/"),
        ('start_pages = ["https://127.0.0.2:8765/"]', "start page", "https://127.0.0.2:8765/"),
    ],
)
def test_every_source_must_be_on_a_registry_origin(
    tmp_path: Path, line: str, kind: str, url: str
) -> None:
    path = tmp_path / "sites.toml"
    path.write_text(f'[[sites]]\ndomain = "fr.de"\nname = "x"\nbase_url = "http://127.0.0.2:8765"\n'
                    f"{line}\n")  # fmt: skip
    with pytest.raises(RegistryError) as error:
        Network.load(path)
    assert str(error.value) == (
        f"sites registry {path}, entry 1: {kind} {url!r} is not on a portal of the registry "
        "(scheme, host and port of a base_url)"
    )


def _http_error(status: int) -> HttpError:
    return HttpError(Response("http://x/", status=status), "ignored")


@pytest.mark.parametrize(
    ("error", "failed"),
    [
        (_http_error(404), Failed("http_404", True)),
        (IgnoreRequest("Forbidden by robots.txt"), Failed("robots", False)),
        (IgnoreRequest("outside the registry: http://127.0.0.1:5432"), Failed("offsite", False)),
        (IgnoreRequest("... exceeded DOWNLOAD_MAXSIZE (10 B) during decompression."),
         Failed("too_large", False)),
        (IgnoreRequest("max redirections reached"), Failed("redirect_loop", True)),
        (IgnoreRequest("Redis unreachable: no politeness token"), Failed("ignored", False)),
        (DownloadCancelledError("Expected to receive 99 bytes"), Failed("too_large", False)),
        (DownloadTimeoutError("took longer than 30.0 seconds"), Failed("timeout", False)),
        (TwistedRefused(), Failed("ConnectionRefusedError", False)),
        (ValueError("odd"), Failed("ValueError", True)),
    ],
)  # fmt: skip
def test_failures_are_classified_and_logged_once(error: BaseException, failed: Failed) -> None:
    assert classify(error) == failed


RSS = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
    b"<item><link> http://a/x-1234567.html </link><pubDate>Thu, 02 May 2024</pubDate></item>"
    b"<item><title>no link</title></item>"
    b"<item><link>http://b/&amp;-7654321.html</link></item></channel></rss>"
)
RDF = (
    b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
    b'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
    b"<channel><link>http://channel/</link></channel>"
    b"<item><link>http://c/</link><dc:date>2024-05-02T12:00+02:00</dc:date></item></rdf:RDF>"
)
ATOM = (
    b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><link href="http://d/"/>'
    b"<updated>2024-05-02</updated></entry></feed>"
)


@pytest.mark.parametrize(
    ("body", "root", "items"),
    [
        (RSS, "rss", [("http://a/x-1234567.html", "Thu, 02 May 2024"), ("", None),
                      ("http://b/&-7654321.html", None)]),
        (RDF, "RDF", [("http://c/", "2024-05-02T12:00+02:00")]),
        (ATOM, "feed", [("http://d/", "2024-05-02")]),
        (b"<html><body><item><link>x</link></item></body></html>", None, [("x", None)]),
        (b"not xml at all", None, []),
        (b"", None, []),
    ],
)  # fmt: skip
def test_feeds_are_read_item_by_item(body: bytes, root: str | None, items: list) -> None:
    assert feed_root(body) == root
    assert list(feed_items(body)) == items


def test_feed_items_are_lazy_and_bounded() -> None:
    body = (
        b"<rss><channel>" + b"<item><link>http://e/</link></item>" * 100_000 + b"</channel></rss>"
    )
    items = feed_items(body)
    assert next(items) == ("http://e/", None)
    assert sum(1 for _ in items) == 99_999


def test_entity_declarations_are_found_and_never_expanded() -> None:
    assert declares_entities(BILLION_LAUGHS)
    assert not declares_entities(RSS) and not declares_entities(RDF)
    laughs_feed = BILLION_LAUGHS.replace(b"urlset", b"rss")
    assert feed_root(laughs_feed) == "rss"  # parsed without expanding 10^9 "lol"s


PAGE = "<html><head><title>t</title></head><body><p>Größte Übung „Brezn“ – Äpfel</p></body></html>"


@pytest.mark.parametrize(
    ("raw", "charset", "text"),
    [
        (PAGE.encode("utf-8"), "utf-8", PAGE),
        (PAGE.encode("cp1252"), "utf-8", PAGE),  # cp1252 served as UTF-8
        (PAGE.encode("cp1252"), None, PAGE),
        (PAGE.encode("cp1252"), "windows-1252", PAGE),
        (PAGE.replace("„", '"').replace("“", '"').replace("–", "-").encode("latin-1"), "utf-8",
         PAGE.replace("„", '"').replace("“", '"').replace("–", "-")),  # Latin-1 as UTF-8
        # UTF-8 with slips: a cp1252 dash, a stray byte, a character cut in half
        (PAGE.encode().replace("–".encode(), b"\x96"), "utf-8", PAGE),
        (PAGE.encode() + b"\xff", "utf-8", PAGE + "ÿ"),
        (PAGE.encode() + "ü".encode()[:1], "utf-8", PAGE + "Ã"),
        # a declared charset wins over the fallback, never over valid UTF-8
        ("<p>Ça</p>".encode("iso-8859-15"), "iso-8859-15", "<p>Ça</p>"),
        ("<p>€</p>".encode("iso-8859-15"), "iso-8859-15", "<p>€</p>"),
        ("<p>€</p>".encode(), "iso-8859-15", "<p>€</p>"),
    ],
)  # fmt: skip
def test_charsets_that_lie_keep_the_umlauts(raw: bytes, charset: str | None, text: str) -> None:
    assert decode_html(raw, charset) == text
