"""Story pages of the kinds of issue 15: a live ticker and an explainer with box and table.

Built from the network's 2023–2025 markup (``id-StoryElement-*``): chapter headings
(``h2.id-StoryElement-chapterHeadline``) and a table of contents, entries opening with a
stamp in bold in the spellings the network uses and running over several paragraphs, a
fact box, a table whose first row is the header, and the furniture that stands between
them on real pages: a "Meine News" teaser list, an interstitial gallery link, an image
with caption and credit, an Outbrain notice. The story goes into the real 2024 page's
template (``pages.py``), so nav, scripts, JSON-LD and comments are the real ones.

Neither page is listed in a feed, sitemap or listing: complete crawls of the network
stay as they are; tests fetch them by URL. Each update of the ticker
(``MockNetwork.update_article(TICKER_ID)``) adds one entry on top, five minutes after
the one before, and moves ``dateModified`` with it: a ticker that changes every few
minutes, whose clock-only stamps run past midnight from the 30th update on.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from tests.mocknet import pages, text
from tests.mocknet.spec import ArticleMeta, NetworkSpec

TICKER_ID = "94000001"
EXPLAINER_ID = "94000002"
KINDS = frozenset({"ticker", "explainer"})
SUMMER = timezone(timedelta(hours=2))
TICKER_PUBLISHED = datetime(2025, 10, 23, 7, 15, 30, tzinfo=SUMMER)
TICKER_MODIFIED = datetime(2025, 10, 25, 21, 42, 0, tzinfo=SUMMER)
EXPLAINER_PUBLISHED = datetime(2025, 9, 30, 6, 0, 12, tzinfo=SUMMER)
UPDATE_EVERY = timedelta(minutes=5)


@dataclass(frozen=True)
class _Story:
    kind: str
    domain: str
    article_id: str
    section: str
    title: str
    lead: str
    published: datetime


_STORIES = (
    _Story("ticker", "fr.de", TICKER_ID, "politik",
           "Ukraine-Krieg aktuell: Selenskyj wirbt in Brüssel um neue Luftabwehr",
           "Der Ukraine-Krieg im News-Ticker: Kiew bittet die EU um mehr Flugabwehr, "
           "die Nacht bringt neue Angriffe auf die Energieversorgung.",
           TICKER_PUBLISHED),
    _Story("explainer", "merkur.de", EXPLAINER_ID, "wirtschaft",
           "Rente 2026: Was sich für Ruheständler jetzt ändert",
           "Zum Jahreswechsel steigen die Renten, und neue Regeln für Hinzuverdienst und "
           "Steuern treten in Kraft. Ein Überblick mit allen Zahlen.",
           EXPLAINER_PUBLISHED),
)  # fmt: skip


def story_metas(spec: NetworkSpec) -> dict[str, ArticleMeta]:
    """The two pages' metas by ``"domain/id"``, as :mod:`specials` gives its own."""
    metas: dict[str, ArticleMeta] = {}
    for story in _STORIES:
        path = f"/{story.section}/{text.slugify(story.title)}-{story.article_id}.html"
        url = spec.base_url(story.domain) + path
        metas[f"{story.domain}/{story.article_id}"] = ArticleMeta(
            article_id=story.article_id, domain=story.domain, path=path, url=url,
            canonical=url, title=story.title, lead=story.lead, section=story.section,
            author=spec.portal(story.domain).authors[0], published=story.published,
            layout="2024", kind=story.kind,
        )  # fmt: skip
    return metas


def render(spec: NetworkSpec, meta: ArticleMeta, revision: int) -> tuple[datetime, str]:
    """(modification time, page) of a story page at ``revision`` updates."""
    if meta.kind == "ticker":
        modified = TICKER_MODIFIED + UPDATE_EVERY * revision
        body = ticker_body(spec, meta, revision)
    else:
        modified = meta.published
        body = explainer_body(spec, meta)
    return modified, pages.render_article(spec, meta, modified, [], body=body)


# --- the markup ----------------------------------------------------------------------


def _p(content: str) -> str:
    return f"<p class=id-StoryElement-paragraph>{content}</p>"


def _entry(stamp: str, first: str, *more: str) -> str:
    return _p(f"<strong>{stamp}</strong> {first}") + "".join(_p(m) for m in more)


def _chapter(number: int, heading: str) -> str:
    return (
        f"<h2 class=id-StoryElement-chapterHeadline id=id-Chapter-{number}>"
        f"{html.escape(heading)}</h2>"
    )


def _toc(headings: list[str]) -> str:
    items = "".join(
        f'<li class=id-StoryElement-tableOfContents-list-item><a href="#id-Chapter-{n}">'
        f"{html.escape(h)}</a></li>"
        for n, h in enumerate(headings, start=1)
    )
    return (
        "<nav class=id-StoryElement-tableOfContents><p class=id-StoryElement-tableOfContents-"
        "headline>Inhaltsverzeichnis</p><ol class=id-StoryElement-tableOfContents-list>"
        f"{items}</ol></nav>"
    )


def _my_news(spec: NetworkSpec, meta: ArticleMeta) -> str:
    """The "Meine News" teaser ticker the network puts inside long stories: teasers with
    their own kickers, which must not become the story's."""
    others = [spec.regular_meta(meta.domain, k) for k in range(2)]
    items = "".join(
        f'<li class="id-Teaser-el id-Teaser-el--ticker"><a class=id-LinkOverlay-link '
        f'href="{m.url}"><p class=id-Teaser-el-content-kicker>Meine News</p>'
        f"<h3 class=id-Teaser-el-content-headline>{html.escape(m.title)}</h3></a></li>"
        for m in others
    )
    return f"<aside><h2>Meine News</h2><ul class=id-Teaser-list>{items}</ul></aside>"


def _gallery_link(spec: NetworkSpec, meta: ArticleMeta) -> str:
    target = spec.regular_meta(meta.domain, 3)
    return (
        "<div class=id-StoryElement-intestitialLink><a class=id-StoryElement-intestitialLink-"
        f'link href="{target.url}"><span class=id-StoryElement-intestitialLink-headline>'
        "Bilder des Tages: Zerstörung in Charkiw</span><span class=id-StoryElement-"
        "intestitialLink-cta>Zur Fotostrecke</span></a></div>"
    )


def _figure(base: str, meta: ArticleMeta) -> str:
    return (
        f"<figure class=id-StoryElement-image><img src={base}/bilder/2025/10/25/"
        f'{meta.article_id}/2-luftabwehr.jpg alt="Flugabwehr"><figcaption class='
        "id-StoryElement-image-caption>Ein Flugabwehrsystem im Einsatz bei Kiew. "
        "©&nbsp;Sergei Supinsky/AFP</figcaption></figure>"
    )


_OUTBRAIN = (
    '<div class=OUTBRAIN data-widget-id=AR_1 data-src="#"><p class=ob-notice>'
    "Empfohlene Inhalte: Auswahl durch Outbrain</p></div>"
)


def fact_box(title: str, *paragraphs: str) -> str:
    inner = "".join(f"<p class=id-StoryElement-factBox-paragraph>{p}</p>" for p in paragraphs)
    return (
        f"<div class=id-StoryElement-factBox><h3 class=id-StoryElement-factBox-headline>{title}"
        f"</h3>{inner}</div>"
    )


def _table(caption: str, header: list[str], rows: list[list[str]]) -> str:
    def row(cells: list[str], tag: str) -> str:
        tds = "".join(f"<{tag} class=id-StoryElement-table-cell>{c}</{tag}>" for c in cells)
        return f"<tr class=id-StoryElement-table-row>{tds}</tr>"

    return (
        f"<div class=id-StoryElement-table><p class=id-StoryElement-table-headline>{caption}</p>"
        "<div class=id-StoryElement-table-wrapper><table><thead>"
        f"{row(header, 'th')}</thead><tbody>{''.join(row(r, 'td') for r in rows)}</tbody>"
        "</table></div></div>"
    )


TICKER_CHAPTERS = ["Selenskyj in Brüssel", "Angriffe in der Nacht", "Der Beginn"]


def _updates(spec: NetworkSpec, revision: int) -> str:
    """The entries the updates added, newest first: one every five minutes."""
    out = []
    for k in range(revision, 0, -1):
        at = (TICKER_MODIFIED + UPDATE_EVERY * k).astimezone(SUMMER)
        sentence = text.sentence(text.rng_for(spec.seed, "ticker", k), 10, 16)
        out.append(_entry(f"Update, {at:%H:%M} Uhr:", f"Eintrag {k}: {sentence}"))
    return "".join(out)


def ticker_body(spec: NetworkSpec, meta: ArticleMeta, revision: int = 0) -> str:
    base = spec.base_url(meta.domain)
    return "".join(
        [
            _toc(TICKER_CHAPTERS),
            fact_box(
                "Die wichtigsten Fakten",
                "Selenskyj bittet die EU um zehn weitere Patriot-Systeme.",
                "In der Nacht fielen in Charkiw und Odessa erneut die Stromnetze aus.",
            ),
            _chapter(1, TICKER_CHAPTERS[0]),
            _updates(spec, revision),
            _entry(
                "Update, 21:32 Uhr:",
                "Selenskyj ist zu Gesprächen mit der EU-Kommission in Brüssel eingetroffen.",
                "Er wolle über Luftabwehr und Energiehilfe sprechen, sagte er bei der Ankunft.",
            ),
            _my_news(spec, meta),
            _entry(
                "Update, 15.55 Uhr:",
                "Die EU-Außenminister beraten über ein weiteres Hilfspaket.",
                "Nach Angaben von Diplomaten geht es um zwei Milliarden Euro.",
                "Ungarn hat bereits Bedenken angemeldet.",
            ),
            _chapter(2, TICKER_CHAPTERS[1]),
            _gallery_link(spec, meta),
            _entry(
                "Update, 25. Oktober, 6:10 Uhr:",
                "Russland hat in der Nacht die Energieversorgung in Charkiw angegriffen.",
            ),
            "<ul class=id-StoryElement-list><li class=id-StoryElement-list-item>Charkiw: "
            "Strom in 40.000 Haushalten ausgefallen</li><li class=id-StoryElement-list-item>"
            "Odessa: Umspannwerk getroffen</li></ul>",
            _figure(base, meta),
            _entry(
                "Update, 23:05 Uhr:",
                "Luftalarm in weiten Teilen des Landes.",
                "Die Flugabwehr meldet Drohnen über Kiew.",
            ),
            _OUTBRAIN,
            _chapter(3, TICKER_CHAPTERS[2]),
            _entry(
                "Erstmeldung:",
                "Der ukrainische Präsident reist in dieser Woche nach Brüssel.",
                "Dort will er um weitere Unterstützung bitten.",
            ),
        ]
    )


def explainer_body(spec: NetworkSpec, meta: ArticleMeta) -> str:
    return "".join(
        [
            _p("Zum 1. Januar 2026 ändert sich für Rentnerinnen und Rentner einiges."),
            "<h2 class=id-StoryElement-crosshead>Wie stark steigen die Renten?</h2>",
            _p("Die Rentenanpassung fällt in Ost und West gleich aus."),
            _table(
                "Rentenwerte im Vergleich",
                ["Jahr", "Rentenwert", "Anstieg"],
                [["2025", "39,32 Euro", "4,57 %"], ["2026", "40,79 Euro", "3,73 %"]],
            ),
            _my_news(spec, meta),
            fact_box(
                "Hinzuverdienst",
                "Neben der Altersrente darf unbegrenzt hinzuverdient werden.",
                "Für Erwerbsminderungsrenten gelten weiter Grenzen.",
            ),
            "<h2 class=id-StoryElement-crosshead>Was gilt bei der Steuer?</h2>",
            _p("Der Grundfreibetrag steigt auf 12.336 Euro."),
            "<ul class=id-StoryElement-list><li class=id-StoryElement-list-item>Rentenbeginn "
            "2025: 83,5 % steuerpflichtig</li><li class=id-StoryElement-list-item>Rentenbeginn "
            "2026: 84 % steuerpflichtig</li></ul>",
            _gallery_link(spec, meta),
            _p("Wer unsicher ist, sollte eine Beratungsstelle aufsuchen."),
            _OUTBRAIN,
        ]
    )
