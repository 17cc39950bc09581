"""Article and listing pages, built from the real fixture pages.

Each fixture is turned once into a template: its story URL, id, title, lead, author, dates
and body are cut out and replaced by placeholders, and its own-host links are re-pointed
at the serving mock portal. The fixtures' recommendation boxes were saved empty (filled by
JavaScript), so a teaser list of mock articles is put there: furniture links to articles
that are not body links. Nav, comments,
scripts and tracking stay as served, so extraction meets the real furniture. Rendering is a
``"".join`` over the pre-split template: cheap enough for hundreds of pages a second.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from tests.mocknet import specials, text
from tests.mocknet.spec import LISTING_SIZE, TOPIC_PATH, ArticleMeta, NetworkSpec

MARK = "\x00"  # placeholder delimiter: never in the fixtures, never in generated text


@dataclass(frozen=True)
class _Fixture:
    file: str
    path_stem: str
    online_id: str
    titles: tuple[str, ...]
    lead: str
    author_path: str | None
    author_name: str | None
    body_start: str
    body_end: str
    lead_html: str
    literal: tuple[tuple[str, str], ...]
    """(fixture text, replacement) applied before the generic rewrites."""


_FIXTURES = {
    "2024": _Fixture(
        file="fr.de-2024-ambrosia.html",
        path_stem="/ratgeber/wohnen/ambrosia-giftig-garten-allergische-reaktionen-pflanze"
        "-erkennen-bekaempfen-zr-93036630",
        online_id="93036630",
        titles=("Warum Ambrosia in deutschen Gärten zur Bedrohung wird",),
        lead="Ambrosia breitet sich in deutschen Gärten aus und kann gesundheitliche Schäden "
        "verursachen. Erfahren Sie, wie Sie die giftige Pflanze erkennen und bekämpfen.",
        author_path="/autoren/12611/",
        author_name="Simone Jung",
        body_start="<p class=id-StoryElement-leadText>",
        body_end="<div class=id-Recommendation>",
        lead_html=f"<p class=id-StoryElement-leadText>{MARK}LEAD{MARK}</p>{MARK}BODY{MARK}",
        literal=(
            (
                '"datePublished":"2024-04-26T20:44:00+0200"',
                f'"datePublished":"{MARK}PUB_ISO_COMPACT{MARK}",'
                f'"dateModified":"{MARK}MOD_ISO_COMPACT{MARK}"',
            ),
            ("2024-04-26T20:44:00+0200", f"{MARK}PUB_ISO_COMPACT{MARK}"),
            (
                "<h3 class=id-Recommendation-headline>Auch interessant</h3>",
                f"<h3 class=id-Recommendation-headline>Auch interessant</h3>{MARK}TEASERS{MARK}",
            ),
            ("2024-04-26 20:44", f"{MARK}PUB_DT{MARK}"),
            ("26.04.2024, 20:44 Uhr", f"{MARK}PUB_DE{MARK}"),
        ),
    ),
    "2020": _Fixture(
        file="fr.de-2020-nordkorea.html",
        path_stem="/politik/kim-jong-un-nordkorea-bilder-diktator-donald-trump-zr-13680734",
        online_id="13680734",
        titles=(
            "Nordkorea: Kim Jong Un - Der Diktator ist zurück, Donald Trump ist\xa0„glücklich“"
            " | Politik",
            "Nordkorea: Kim Jong Un - Der Diktator ist zurück, Donald Trump ist\xa0„glücklich“",
            "Kim Jong Un: Der Diktator ist zurück - Donald Trump ist\xa0„glücklich“",
        ),
        lead="Kim Jong Un taucht nach Wochen wieder auf. Die Bilder, die das beweisen sollen, "
        "erfreuen Donald Trump. Er sendet Grüße nach Nordkorea.",
        author_path=None,
        author_name=None,
        body_start='<p class="id-Article-content-item id-Article-content-item-summary">',
        body_end='<p class="id-Article-content-item"><em>*fr.de ist Teil',
        lead_html='<p class="id-Article-content-item id-Article-content-item-summary">'
        f"{MARK}LEAD{MARK}</p>{MARK}BODY{MARK}",
        literal=(
            ("<em>*fr.de ist Teil", f"<em>*{MARK}DOMAIN{MARK} ist Teil"),
            ("2020-05-04T14:50:00+02:00", f"{MARK}PUB_ISO{MARK}"),
            ("2020-06-16T11:52:13+02:00", f"{MARK}MOD_ISO{MARK}"),
            (
                '<span class="id-DateTime-date">04.05.20</span> <span class="id-DateTime-time">'
                "14:50</span>",
                f'<span class="id-DateTime-date">{MARK}PUB_SHORT{MARK}</span> '
                f'<span class="id-DateTime-time">{MARK}PUB_TIME{MARK}</span>',
            ),
            ("1588596600000", f"{MARK}PUB_MS{MARK}"),
            (
                "Das könnte Sie auch interessieren</span></h3>",
                f"Das könnte Sie auch interessieren</span></h3>{MARK}TEASERS{MARK}",
            ),
            ("202005041450", f"{MARK}PUB_COMPACT{MARK}"),
        ),
    ),
}

_CANONICAL = re.compile(r"<link (?:rel=canonical href=[^ >]+|href=\"[^\"]+\" rel=\"canonical\"/)>")


def _entities(value: str) -> str:
    return "".join(c if ord(c) < 128 else f"&#{ord(c)};" for c in value)


@dataclass(frozen=True)
class Template:
    parts: tuple[str, ...]
    """Literal text at even positions, placeholder names at odd ones."""

    def render(self, values: Mapping[str, str]) -> str:
        parts = list(self.parts)
        parts[1::2] = [values[key] for key in parts[1::2]]
        return "".join(parts)


@cache
def template(layout: str) -> Template:
    fx = _FIXTURES[layout]
    page = (text.FIXTURES / fx.file).read_text(encoding="utf-8")
    start, end = page.index(fx.body_start), page.index(fx.body_end)
    page = page[:start] + fx.lead_html + page[end:]
    page = _CANONICAL.sub(f"<link rel=canonical href={MARK}CANONICAL{MARK}>", page, count=1)
    for old, new in fx.literal:
        page = page.replace(old, new)
    for title in fx.titles:
        for variant in (title, _entities(title)):
            page = page.replace(variant, f"{MARK}TITLE{MARK}")
    for variant in (fx.lead, _entities(fx.lead)):
        page = page.replace(variant, f"{MARK}LEAD{MARK}")
    if fx.author_path and fx.author_name:
        page = page.replace(fx.author_path, f"{MARK}AUTHOR_PATH{MARK}")
        page = page.replace(fx.author_name, f"{MARK}AUTHOR{MARK}")
    page = page.replace(fx.path_stem, f"{MARK}PATHSTEM{MARK}")
    page = page.replace("https://www.fr.de", f"{MARK}BASE{MARK}")
    page = page.replace("//www.fr.de", f"//{MARK}NETLOC{MARK}")
    page = page.replace(fx.online_id, f"{MARK}ID{MARK}")
    return Template(tuple(page.split(MARK)))


# --- values ---------------------------------------------------------------------------


def _neighbours(spec: NetworkSpec, meta: ArticleMeta, count: int) -> list[ArticleMeta]:
    """Regular articles a page links to: the next ones of its portal, wrapping around."""
    domain = meta.domain if meta.domain in {p.domain for p in spec.portals} else "fr.de"
    n = spec.articles_per_portal
    start = max(meta.index, 0)
    return [spec.regular_meta(domain, (start + 1 + k) % n) for k in range(count)]


def _cross_portal(spec: NetworkSpec, meta: ArticleMeta) -> tuple[ArticleMeta, str]:
    domains = [p.domain for p in spec.portals]
    here = domains.index(meta.domain) if meta.domain in domains else 0
    other = domains[(here + 1) % len(domains)]
    return spec.regular_meta(other, max(meta.index, 0)), other


def body_elements(spec: NetworkSpec, meta: ArticleMeta, revision: int, new_text: str | None):
    """The story's (kind, text) elements: generated, or an update's ``new_text``."""
    if new_text is not None:
        return [("p", block.strip()) for block in new_text.split("\n\n") if block.strip()]
    return text.paragraphs(text.rng_for(spec.seed, "body", meta.article_id, revision))


def _teasers(spec: NetworkSpec, meta: ArticleMeta) -> str:
    """The "Auch interessant" box: furniture links (not body links) to nearby articles."""
    items = "".join(
        f'<li class=id-Teaser-el><a class=id-LinkOverlay-link href="{m.url}">'
        f"<h4 class=id-Teaser-el-content-headline>{html.escape(m.title)}</h4></a></li>"
        for m in _neighbours(spec, meta, 4)[1:]
    )
    return f"<ul class=id-Teaser-list>{items}</ul>"


def _link(url: str, anchor: str) -> str:
    return f'<a class=id-import-Link href="{html.escape(url)}">{html.escape(anchor)}</a>'


def _body_html(spec: NetworkSpec, meta: ArticleMeta, elements, layout: str) -> str:
    if layout == "2024":
        p, h = (
            "<p class=id-StoryElement-paragraph>{}</p>",
            "<h2 class=id-StoryElement-crosshead>{}</h2>",
        )
    else:
        p = '<p class="id-Article-content-item">{}</p>'
        h = ('<h3 class="id-Article-content-item id-Article-content-item-headline">'
             '<span class="id-Article-content-item-headline-text">{}</span></h3>')  # fmt: skip
    base = spec.base_url(meta.domain)
    neighbour = _neighbours(spec, meta, 1)[0]
    cross, cross_domain = _cross_portal(spec, meta)
    links = [
        _link(neighbour.path, neighbour.title),
        _link(base + TOPIC_PATH, "Nachrichten"),
        *(_link(url, anchor) for url, anchor in specials.body_urls(spec, meta)),
    ]
    out: list[str] = []
    for position, (kind, content) in enumerate(elements):
        chunk = html.escape(content, quote=False)
        if kind == "p" and links and position % 2 == 0:
            chunk += " Lesen Sie auch: " + links.pop(0) + "."
        out.append((p if kind == "p" else h).format(chunk))
        if position == 1:
            out.append(_figure(base, meta, layout))
    if links:
        out.append(p.format(" ".join(links)))
    # the network marks links to its other portals with "*" (see the fixtures' footnotes)
    network_link = _link(cross.url, cross_domain + "*")
    out.append(p.format(f"Alles zu {html.escape(cross.section)} lesen Sie bei {network_link}."))
    return "".join(out)


def _figure(base: str, meta: ArticleMeta, layout: str) -> str:
    src = f"{base}/bilder/2024/05/01/{meta.article_id}/1-symbolbild.jpg"
    if layout == "2024":
        return (f"<figure class=id-StoryElement-image><img class=id-RatioPlaceholder-element "
                f'src={src} alt="Symbolbild"><figcaption class=id-StoryElement-image-caption>'
                "Symbolbild ©&nbsp;dpa</figcaption></figure>")  # fmt: skip
    return ('<div class="id-Article-content-item"><figure class="id-Mediabox">'
            f'<img src="{src}" alt="Symbolbild"><figcaption class="id-Mediabox-info">'
            '<div class="id-Mediabox-info-el id-Mediabox-info-caption">Symbolbild</div>'
            "</figcaption></figure></div>")  # fmt: skip


def render_article(
    spec: NetworkSpec, meta: ArticleMeta, modified: datetime, elements, body: str | None = None
) -> str:  # fmt: skip
    """The page; ``body``: the story's own markup instead of one made of ``elements``."""
    tpl = template(meta.layout)
    base = spec.base_url(meta.domain)
    pub, mod = meta.published, modified
    values = {
        "BASE": base,
        "NETLOC": base.removeprefix("http://"),
        "PATHSTEM": meta.path.removesuffix(".html"),
        "ID": meta.article_id,
        "CANONICAL": meta.canonical,
        "TITLE": html.escape(meta.title),
        "LEAD": html.escape(meta.lead),
        "AUTHOR": html.escape(meta.author[0]),
        "AUTHOR_PATH": meta.author[1],
        "DOMAIN": meta.domain,
        "BODY": body if body is not None else _body_html(spec, meta, elements, meta.layout),
        "PUB_ISO": pub.isoformat(),
        "MOD_ISO": mod.isoformat(),
        "PUB_ISO_COMPACT": pub.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "MOD_ISO_COMPACT": mod.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "PUB_DT": pub.strftime("%Y-%m-%d %H:%M"),
        "PUB_DE": pub.strftime("%d.%m.%Y, %H:%M Uhr"),
        "PUB_SHORT": pub.strftime("%d.%m.%y"),
        "PUB_TIME": pub.strftime("%H:%M"),
        "PUB_MS": str(int(pub.timestamp() * 1000)),
        "PUB_COMPACT": pub.strftime("%Y%m%d%H%M"),
    }
    values["TEASERS"] = _teasers(spec, meta)
    return tpl.render(values)


# --- listings -------------------------------------------------------------------------


def render_listing(
    spec: NetworkSpec, domain: str, heading: str, path: str, metas: list[ArticleMeta],
    extra_urls: list[str],
) -> str:  # fmt: skip
    """A home, section, author or topic page: teasers with author and image links."""
    portal = spec.portal(domain)
    nav = "".join(
        f'<li><a href="/{s}/">{s.split("/")[-1].title()}</a></li>' for s in portal.sections
    )
    teasers = "".join(
        f'<li class=id-Teaser-el><a class=id-LinkOverlay-link href="{m.path}">'
        f"<h3 class=id-Teaser-el-content-headline>{html.escape(m.title)}</h3></a>"
        f'<img src="/bilder/2024/05/01/{m.article_id}/teaser.jpg" alt="">'
        f'<a href="{m.author[1]}">{html.escape(m.author[0])}</a></li>'
        for m in metas[:LISTING_SIZE]
    )
    extra = "".join(f'<li><a href="{html.escape(u)}">Mehr</a></li>' for u in extra_urls)
    return (
        f"<!DOCTYPE html><html lang=de><head><meta charset=utf-8><title>{html.escape(heading)} | "
        f"{html.escape(portal.name)}</title><link rel=canonical href={spec.base_url(domain)}{path}>"
        f'<link rel=stylesheet href="/assets/css/styles.css"></head><body class=id-Page>'
        f'<header><a href="/">{html.escape(portal.name)}</a><nav><ul>{nav}</ul></nav></header>'
        f"<main><h1>{html.escape(heading)}</h1><ul class=id-Teaser-list>{teasers}{extra}</ul>"
        f'<a href="{TOPIC_PATH}">Nachrichten</a></main><footer><a href="/ueber-uns/impressum/">'
        "Impressum</a></footer></body></html>"
    )


def render_not_found(domain: str) -> str:
    return (
        f"<!DOCTYPE html><html lang=de><head><meta charset=utf-8><title>Seite nicht gefunden | "
        f"{domain}</title></head><body><h1>Seite nicht gefunden</h1></body></html>"
    )
