"""Hostile routes under ``/hostile/`` on every portal: bombs, trickles, loops, liars.

Nothing links to them from the regular network, so a crawl of the default registry never
meets them; :func:`hostile_registry` writes a registry whose portals also list the hostile
sources (tests/test_hostile_sources.py). Every page is generated when asked for (the
gzip bomb once per server process), so serving them costs the server next to no memory.

The server also runs a *twin* of fr.de on a second port (``twin.json`` in its workdir):
the target of the "same host, other port" redirect, and, in a registry of its own, a
portal whose robots.txt disallows everything.
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from itertools import cycle, islice
from pathlib import Path
from xml.sax.saxutils import escape

from tests.mocknet import pages, text
from tests.mocknet.registry import registry_toml
from tests.mocknet.spec import EPOCH, ArticleMeta, NetworkSpec

PREFIX = "/hostile/"
TWIN_FILE = "twin.json"
HOSTILE_PORTAL = "fr.de"

HUGE_FEED_ITEMS = 100_000
HUGE_PAGE_BYTES = 100 * 1024 * 1024
BOMB_INFLATED_BYTES = 1200 * 1024 * 1024  # > 1 GB of zeros: a 1.2 MB gzip stream
NESTED_DIVS = 100_000
LONG_URL_CHARS = 10_000
LOOP_ID = "94000005"

# (name, online id, title) of the hostile article pages; the pages feed lists them all.
PAGES = (
    ("huge", "94000001", "Hundert Megabyte ohne Ende"),
    ("trickle", "94000003", "Ein Byte pro Sekunde"),
    ("gzip-bomb", "94000004", "Gepackte Bombe im Artikel"),
    ("loop", LOOP_ID, "Umleitung ohne Ende"),
    ("offnet", "94000006", "Umleitung aus dem Netz hinaus"),
    ("database", "94000007", "Umleitung auf die Datenbank"),
    ("other-port", "94000008", "Umleitung auf einen anderen Port"),
    ("nested", "94000009", "Hunderttausend verschachtelte Blöcke"),
    ("cp1252", "94000011", "Bürgerentscheid über Straßenbäume: „Grünes Wunder“ – oder Ärger?"),
    ("latin1", "94000012", "Größere Gärten für Köln: Bürger wählen Übergänge"),
    ("invalid-utf8", "94000013", "Süße Äpfel aus Höchst – Ernte früher als gedacht"),
)  # fmt: skip
STORED = ("cp1252", "latin1", "invalid-utf8")
"""The hostile pages a crawl must store, text intact; no other hostile page is stored."""

# Hostile sources of the hostile portal, by kind, as the registry lists them.
FEEDS = (
    PREFIX + "pages.rdf",
    PREFIX + "huge-feed.rdf",
    PREFIX + "redirect-offnet.rdf",
    PREFIX + "redirect-database.rdf",
    PREFIX + "redirect-other-port.rdf",
    "/intern/hostile.rdf",  # robots.txt: Disallow: /intern/
)
SITEMAPS = (PREFIX + "laughs.xml", PREFIX + "bomb.xml.gz", "/intern/hostile.xml")
START_PAGES = ("/intern/",)


@dataclass
class Hostile:
    """A response the plain :class:`~tests.mocknet.site.Response` cannot express."""

    status: int
    content_type: str | None = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    stream: Iterator[bytes] | None = None
    """Written chunk by chunk, without Content-Length, then the connection is closed."""
    etag = None  # never a 304: the server's conditional check finds no validators
    last_modified = None


def meta(spec: NetworkSpec, name: str) -> ArticleMeta:
    article_id, title = next((i, t) for n, i, t in PAGES if n == name)
    path = f"{PREFIX}{name}-{article_id}.html"
    url = spec.base_url(HOSTILE_PORTAL) + path
    rng = text.rng_for(spec.seed, "meta", article_id)
    return ArticleMeta(
        article_id=article_id, domain=HOSTILE_PORTAL, path=path, url=url, canonical=url,
        title=title, lead=text.sentence(rng, 15, 25), section="politik",
        author=spec.portal(HOSTILE_PORTAL).authors[0], published=EPOCH, layout="2024",
        kind="hostile",
    )  # fmt: skip


def long_url(spec: NetworkSpec) -> str:
    """An article-shaped URL of 10,000 characters: listed, must never be requested."""
    head = spec.base_url(HOSTILE_PORTAL) + PREFIX
    return head + "a" * (LONG_URL_CHARS - len(head) - len("-94000010.html")) + "-94000010.html"


def article_page(spec: NetworkSpec, name: str) -> str:
    page_meta = meta(spec, name)
    elements = pages.body_elements(spec, page_meta, 0, None)
    return pages.render_article(spec, page_meta, EPOCH, elements)


def paragraphs(spec: NetworkSpec, name: str) -> list[str]:
    """The body paragraphs a crawl must store for a hostile page (charset cases)."""
    return [t for kind, t in pages.body_elements(spec, meta(spec, name), 0, None) if kind == "p"]


# --- routing -----------------------------------------------------------------------------


def respond(spec: NetworkSpec, path: str, twin_port: int) -> Hostile:
    """The hostile portal's answer to ``path`` (with its query) under ``/hostile/``."""
    route, _, query = path.removeprefix(PREFIX).partition("?")
    base = spec.base_url(HOSTILE_PORTAL)
    redirects = {
        "redirect-offnet.rdf": spec.base_url(spec.outside.domain) + "/rssfeed.rdf",
        "redirect-database.rdf": "http://127.0.0.1:5432/rssfeed.rdf",
        "redirect-other-port.rdf": f"http://127.0.0.2:{twin_port}/rssfeed.rdf",
        f"offnet-{meta(spec, 'offnet').article_id}.html": spec.outside_link(7),
        f"database-{meta(spec, 'database').article_id}.html": "http://127.0.0.1:5432/x-94000007.html",
        f"other-port-{meta(spec, 'other-port').article_id}.html": (
            f"http://127.0.0.2:{twin_port}{meta(spec, 'other-port').path}"
        ),
    }  # fmt: skip
    if route in redirects:
        return Hostile(302, "text/html", headers={"Location": redirects[route]})
    if route == f"loop-{LOOP_ID}.html":  # a new URL every time: the duplicate filter never helps
        hop = int(query.removeprefix("hop=") or 0) + 1
        return Hostile(302, "text/html", headers={"Location": f"{base}{PREFIX}{route}?hop={hop}"})
    if route == "pages.rdf":
        urls = [meta(spec, name).url for name, _, _ in PAGES] + [long_url(spec)]
        return Hostile(200, "application/rss+xml; charset=utf-8", _rss(urls))
    if route == "huge-feed.rdf":
        return Hostile(200, "application/rss+xml; charset=utf-8", _huge_feed(spec))
    if route == "laughs.xml":
        return Hostile(200, "application/xml; charset=utf-8", BILLION_LAUGHS)
    if route in ("bomb.xml.gz", f"gzip-bomb-{meta(spec, 'gzip-bomb').article_id}.html"):
        if route.endswith(".gz"):
            return Hostile(200, "application/x-gzip", gzip_bomb())
        headers = {"Content-Encoding": "gzip"}
        return Hostile(200, "text/html; charset=utf-8", gzip_bomb(), headers)
    html = "text/html; charset=utf-8"
    if route == f"huge-{meta(spec, 'huge').article_id}.html":
        return Hostile(200, html, stream=_huge_page())
    if route == f"trickle-{meta(spec, 'trickle').article_id}.html":
        return Hostile(200, html, stream=_trickle(article_page(spec, "trickle")))
    if route == f"nested-{meta(spec, 'nested').article_id}.html":
        return Hostile(200, html, _nested(spec))
    return _charset_page(spec, route)


def _charset_page(spec: NetworkSpec, route: str) -> Hostile:
    utf8 = "text/html; charset=utf-8"  # what every one of them claims
    for name in STORED:
        if route != f"{name}-{meta(spec, name).article_id}.html":
            continue
        page = article_page(spec, name)
        if name == "cp1252":
            return Hostile(200, utf8, page.encode("cp1252", errors="xmlcharrefreplace"))
        if name == "latin1":
            return Hostile(200, utf8, page.encode("latin-1", errors="xmlcharrefreplace"))
        # UTF-8 with slips: the title's dash as a Windows-1252 byte, a stray 0xFF, and
        # a character cut in half at the end.
        raw = page.encode("utf-8").replace("–".encode(), b"\x96", 1)
        return Hostile(200, utf8, raw.replace(b"</body>", b"\xff</body>", 1) + "ü".encode()[:1])
    return Hostile(404, "text/html", b"<html><body>Nicht gefunden</body></html>")


# --- the payloads ----------------------------------------------------------------------------

BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE urlset [\n <!ENTITY lol "lol">\n'
    + b"".join(
        b' <!ENTITY lol%d "%s">\n' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10)
        for n in range(1, 10)
    )
    + b']>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    + b"<url><loc>&lol9;</loc></url></urlset>\n"
)
"""The classic: ten to the ninth "lol"s (3 GB) if a parser expanded the entities."""


@cache
def gzip_bomb() -> bytes:
    """About 1.2 MB of gzip that inflates to 1.2 GB: one compressed MiB of zeros, repeated.

    A gzip file may hold several members, inflated one after the other (RFC 1952, 2.2),
    so the bomb costs one 1 MiB compression (milliseconds) instead of 1.2 GB of them.
    """
    mib = 1024 * 1024

    def member(data: bytes) -> bytes:
        compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip framing
        return compressor.compress(data) + compressor.flush()

    head = member(b'<?xml version="1.0"?><urlset><url><loc>' + bytes(mib))
    return head + member(bytes(mib)) * (BOMB_INFLATED_BYTES // mib - 1)


def _rss(urls: list[str]) -> bytes:
    items = "".join(f"<item><link>{escape(url)}</link></item>\n" for url in urls)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
            f"<title>Feindselig</title>\n{items}</channel></rss>\n").encode()  # fmt: skip


def _huge_feed(spec: NetworkSpec) -> bytes:
    """100,000 items, cycling over merkur.de's regular articles (all stored anyway)."""
    urls = [spec.regular_meta("merkur.de", i).url for i in range(spec.articles_per_portal)]
    return _rss_cached(tuple(urls))


@cache
def _rss_cached(urls: tuple[str, ...]) -> bytes:
    return _rss(list(islice(cycle(urls), HUGE_FEED_ITEMS)))


def _huge_page() -> Iterator[bytes]:
    yield b"<!DOCTYPE html><html><head><title>Riesig</title></head><body>"
    line = b"<p>" + b"Wort " * 200 + b"</p>\n"
    for _ in range(HUGE_PAGE_BYTES // len(line)):
        yield line
    yield b"</body></html>"


def _trickle(page: str) -> Iterator[bytes]:
    for byte in page.encode("utf-8"):
        yield bytes([byte])
        time.sleep(1.0)


def _nested(spec: NetworkSpec) -> bytes:
    page = article_page(spec, "nested")
    deep = "<div>" * NESTED_DIVS + "Tief" + "</div>" * NESTED_DIVS
    return page.replace("</body>", deep + "</body>", 1).encode("utf-8")


# --- registries for the tests -------------------------------------------------------------------


def twin_port(workdir: Path) -> int:
    return json.loads((workdir / TWIN_FILE).read_text())["port"]


def hostile_registry(spec: NetworkSpec, path: Path) -> Path:
    """The mock network's registry, with the hostile sources added to fr.de's."""
    toml = registry_toml(spec)
    feeds = ", ".join(f'"{url}"' for url in FEEDS)
    sitemaps = ", ".join(f'"{url}"' for url in SITEMAPS)
    # fr.de is the first [[sites]] table: the first feeds and sitemaps lines are its own
    assert toml.index(spec.base_url(HOSTILE_PORTAL)) < toml.index("feeds = [")
    toml = toml.replace('feeds = ["/rssfeed.rdf"', f'feeds = [{feeds}, "/rssfeed.rdf"', 1)
    toml = toml.replace('sitemaps = ["/news.xml"', f'sitemaps = [{sitemaps}, "/news.xml"', 1)
    start_pages = ", ".join(f'"{url}"' for url in START_PAGES)
    toml = toml.replace('start_pages = ["/"', f'start_pages = [{start_pages}, "/"', 1)
    path.write_text(toml, encoding="utf-8")
    return path


def twin_registry(workdir: Path, path: Path) -> Path:
    """One portal: fr.de's twin, whose robots.txt disallows everything."""
    base = f"http://127.0.0.2:{twin_port(workdir)}"
    path.write_text(
        f'[[sites]]\ndomain = "fr.de"\nname = "Zwilling"\nbase_url = "{base}"\n'
        'feeds = ["/rssfeed.rdf", "/politik/rssfeed.rdf"]\n'
        'sitemaps = ["/news.xml", "/sitemap-index.xml"]\nstart_pages = ["/", "/politik/"]\n',
        encoding="utf-8",
    )
    return path
