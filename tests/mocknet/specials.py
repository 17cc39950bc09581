"""The catalogue of special cases: their pages, and where each one is linked or listed.

Kept apart from :mod:`spec` so that one file reads as the list of traps the crawler must
handle; :mod:`sources` and :mod:`pages` ask this module what to add to each feed, sitemap,
listing and body.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from tests.mocknet import text
from tests.mocknet.spec import DISALLOWED_PREFIX, EPOCH, STEP, ArticleMeta

if TYPE_CHECKING:
    from tests.mocknet.spec import NetworkSpec

SYNDICATED_ID = "93036630"
SYNDICATED_SLUG = "ambrosia-giftig-garten-allergische-reaktionen-pflanze-erkennen-bekaempfen"
LATIN1_TITLE = "Größte Übung für Münchner Bäcker: Weißwürste, Brezn und Äpfel in Schwabing"


@dataclass(frozen=True)
class Specials:
    """The special cases, by URL. Each says whether a complete crawl stores it."""

    syndicated_id: str
    syndicated_original: str
    """(a) Original on extratipp.com; STORED, under this URL."""
    syndicated_copy: str
    """(a) Same id on fr.de, ``rel=canonical`` -> original; not stored under its own URL."""
    redirect_old: str
    """(b) Old slug, 301 -> ``redirect_new``; in merkur's RSS feed and news sitemap, on its
    home page and in one body. The current URL is listed nowhere: only the redirect leads there."""
    redirect_new: str
    """(b) STORED."""
    tracking_link: str
    """(c) ``?utm_source=rss...#id-Comments`` link to a regular article (fr.de home, one body)."""
    tracking_target: str
    outside_urls: frozenset[str]
    """(d) Article-shaped pages on the outside host; linked; must never be requested."""
    disallowed: str
    """(e) Under robots.txt ``Disallow: /intern/``; linked and in fr.de's sitemap; never fetched."""
    external_canonical_page: str
    """(f) merkur.de page whose canonical is on the outside host; STORED under this URL."""
    external_canonical: str
    body_link_only: str
    """(g) 24auto.de article linked only from ``body_link_source``'s body; STORED."""
    body_link_source: str
    gzip_only: str
    """(h) merkur.de article listed only in the nested, gzip-compressed sitemap; STORED."""
    gzip_sitemap: str
    broken_feed: str
    """(i) 24auto.de section feed in the registry that answers 404."""
    malformed_sitemap: str
    """(i) 24auto.de child sitemap (in its index) that is not XML."""
    binary_page: str
    """(j) extratipp.com article URL serving binary junk as text/html; not stored."""
    empty_page: str
    """(j) extratipp.com article URL serving an empty body; not stored."""
    latin1_page: str
    """(k) merkur.de article served as ISO-8859-1 with umlauts; STORED."""
    latin1_title: str


# (kind, domain, id, section dir, title, layout, zr) of the special articles with a page
_SPECIAL_PAGES = (
    ("redirect_new", "merkur.de", "93000002", "politik",
     "Landtag streitet über neue Regeln für Pendler im Umland", "2024", False),
    ("disallowed", "fr.de", "93000005", "intern",
     "Interne Vorschau der Redaktion für die Wochenendausgabe", "2024", False),
    ("external_canonical_page", "merkur.de", "93000006", "wirtschaft",
     "Partnerinhalt über Sparpläne und Zinsen im Frühjahr", "2024", False),
    ("body_link_only", "24auto.de", "93000007", "e-auto",
     "Ladesäulen an Autobahnen bleiben im Winter oft ungenutzt", "2020", False),
    ("gzip_only", "merkur.de", "93000008", "bayern",
     "Archivbericht über den Bau der alten Isarbrücke", "2020", True),
    ("binary_page", "extratipp.com", "93000010", "service",
     "Kaputte Seite ohne lesbaren Inhalt", "2024", False),
    ("empty_page", "extratipp.com", "93000011", "muenchen",
     "Leere Seite ohne jeden Inhalt", "2024", False),
    ("latin1_page", "merkur.de", "93000012", "bayern", LATIN1_TITLE, "2024", False),
)  # fmt: skip


def _special_meta(
    spec: NetworkSpec, kind: str, domain: str, article_id: str, section: str, title: str,
    layout: str, zr: bool, age: int,
) -> ArticleMeta:  # fmt: skip
    path = f"/{section}/{text.slugify(title)}{'-zr' if zr else ''}-{article_id}.html"
    url = spec.base_url(domain) + path
    rng = text.rng_for(spec.seed, "meta", article_id)
    return ArticleMeta(
        article_id=article_id, domain=domain, path=path, url=url, canonical=url, title=title,
        lead=text.sentence(rng, 15, 25), section=section,
        author=spec.portal(domain).authors[0], published=EPOCH - STEP * (3 + 7 * age),
        layout=layout, kind=kind,
        encoding="iso-8859-1" if kind == "latin1_page" else "utf-8",
    )  # fmt: skip


def build_specials(spec: NetworkSpec) -> tuple[Specials, dict[str, ArticleMeta]]:
    metas: dict[str, ArticleMeta] = {}
    by_kind: dict[str, ArticleMeta] = {}
    for age, row in enumerate(_SPECIAL_PAGES):
        meta = _special_meta(spec, *row, age=age)
        by_kind[meta.kind] = meta
        metas[f"{meta.domain}/{meta.article_id}"] = meta

    original = _special_meta(
        spec, "syndicated_original", "extratipp.com", SYNDICATED_ID, "service",
        "Warum Ambrosia in deutschen Gärten zur Bedrohung wird", "2024", True, age=1,
    )  # fmt: skip
    original = replace(original, path=f"/service/{SYNDICATED_SLUG}-zr-{SYNDICATED_ID}.html")
    original = replace(original, url=spec.base_url("extratipp.com") + original.path)
    original = replace(original, canonical=original.url)
    copy_path = f"/ratgeber/wohnen/{SYNDICATED_SLUG}-zr-{SYNDICATED_ID}.html"
    copy = replace(
        original, domain="fr.de", path=copy_path, url=spec.base_url("fr.de") + copy_path,
        kind="syndicated_copy", section="ratgeber/wohnen", author=spec.portal("fr.de").authors[0],
    )  # fmt: skip
    metas[f"extratipp.com/{SYNDICATED_ID}"] = original
    metas[f"fr.de/{SYNDICATED_ID}"] = copy

    new = by_kind["redirect_new"]
    old_path = f"/politik/pendler-regeln-entwurf-landtag-{new.article_id}.html"
    ext = by_kind["external_canonical_page"]
    outside_base = spec.base_url(spec.outside.domain)
    metas[f"merkur.de/{ext.article_id}"] = replace(ext, canonical=outside_base + ext.path)
    target = spec.regular_meta("fr.de", 2)
    specials = Specials(
        syndicated_id=SYNDICATED_ID,
        syndicated_original=original.url,
        syndicated_copy=copy.url,
        redirect_old=spec.base_url("merkur.de") + old_path,
        redirect_new=new.url,
        tracking_link=target.url + "?utm_source=rss&utm_medium=referral#id-Comments",
        tracking_target=target.url,
        outside_urls=frozenset(spec.outside_link(n) for n in range(50)),
        disallowed=by_kind["disallowed"].url,
        external_canonical_page=ext.url,
        external_canonical=outside_base + ext.path,
        body_link_only=by_kind["body_link_only"].url,
        body_link_source=spec.regular_meta("fr.de", 1).url,
        gzip_only=by_kind["gzip_only"].url,
        gzip_sitemap=spec.base_url("merkur.de") + "/sitemaps/archive-1.xml.gz",
        broken_feed=spec.base_url("24auto.de") + "/politik/rssfeed.rdf",
        malformed_sitemap=spec.base_url("24auto.de") + "/sitemaps/sitemap-broken.xml",
        binary_page=by_kind["binary_page"].url,
        empty_page=by_kind["empty_page"].url,
        latin1_page=by_kind["latin1_page"].url,
        latin1_title=LATIN1_TITLE,
    )
    return specials, metas


# --- placement: which special URL appears where ------------------------------------------
_FEED = {
    "fr.de": ("syndicated_copy",),
    "merkur.de": ("redirect_old", "latin1_page"),
    "extratipp.com": ("empty_page",),
}
_SITEMAP = {
    "fr.de": ("syndicated_copy", "disallowed"),
    "merkur.de": ("external_canonical_page", "latin1_page"),
    "extratipp.com": ("syndicated_original", "binary_page"),
}
_HOME = {
    "fr.de": ("tracking_link", "disallowed"),
    "merkur.de": ("redirect_old",),
    "extratipp.com": ("binary_page", "empty_page"),
}


def _urls(spec: NetworkSpec, names: tuple[str, ...]) -> list[str]:
    return [getattr(spec.specials, name) for name in names]


def feed_urls(spec: NetworkSpec, domain: str) -> list[str]:
    """Special URLs in the portal's main RSS feed (and its news sitemap)."""
    return _urls(spec, _FEED.get(domain, ()))


def sitemap_urls(spec: NetworkSpec, domain: str) -> list[str]:
    """Special URLs in the portal's first child sitemap."""
    return _urls(spec, _SITEMAP.get(domain, ()))


def home_urls(spec: NetworkSpec, domain: str) -> list[str]:
    """Special links on the portal's home page, plus one to the outside host."""
    number = [p.domain for p in spec.portals].index(domain)
    return [*_urls(spec, _HOME.get(domain, ())), spec.outside_link(40 + number)]


def body_urls(spec: NetworkSpec, meta: ArticleMeta) -> list[tuple[str, str]]:
    """Extra (url, anchor text) links in an article body, beyond the regular neighbours."""
    s = spec.specials
    extra: list[tuple[str, str]] = []
    if meta.domain == "fr.de" and meta.index == 1:
        extra.append((s.body_link_only, "Ladesäulen"))
    if meta.domain == "fr.de" and meta.index == 3:
        extra.append((s.disallowed, "Vorschau"))
    if meta.domain == "fr.de" and meta.index == 4:
        extra.append((s.tracking_link, "Kommentare"))
    if meta.domain == "merkur.de" and meta.index == 1:
        extra.append((s.redirect_old, "Pendler"))
    if meta.index % 3 == 0 and meta.kind == "regular":
        extra.append((spec.outside_link(meta.index), "Frankfurter Neue Presse"))
    return extra


def is_disallowed(path: str) -> bool:
    return path.startswith(DISALLOWED_PREFIX)
