"""What the mock network contains, and what a complete crawl of it must store.

Everything is a pure function of ``(articles_per_portal, seed, port)``: the server process
and the test process build the same :class:`NetworkSpec` independently, and article pages,
feeds and sitemaps are generated lazily by id, so 50,000 articles cost no memory up front.

Regular articles: ``articles_per_portal`` per portal, index 0 newest, one every 23 minutes
network-wide. Online id ``91_000_000 + 8 * index + portal`` (so an id names its portal).
Special cases have fixed ids ``93_...`` (see :class:`~tests.mocknet.specials.Specials`);
outside-host pages ``95_...``.

With ``archive_epoch`` (off by default) the regular articles are an archive of two years
up to that time instead: ids grow with time as on the real network (``96_...``, index 0
newest and highest), the newest ``ARCHIVE_RECENT`` network-wide one every 10 minutes,
the rest spread evenly over the two years; :meth:`NetworkSpec.id_anchors` is that id clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import TYPE_CHECKING

from tests.mocknet import text

if TYPE_CHECKING:
    from tests.mocknet.specials import Specials

BERLIN_SUMMER = timezone(timedelta(hours=2))
EPOCH = datetime(2024, 5, 2, 12, 0, tzinfo=BERLIN_SUMMER)
"""Publication time of index 0 of the first portal; later indexes are older."""
STEP = timedelta(minutes=23)
SITEMAP_CHUNK = 1000
FEED_SIZE = 20
NEWS_SITEMAP_SIZE = 100
LISTING_SIZE = 30
REGULAR_BASE = 91_000_000
OUTSIDE_BASE_ID = 95_000_000
DISALLOWED_PREFIX = "/intern/"
TOPIC_PATH = "/politik/nachrichten-sti1515528/"
ARCHIVE_BASE = 96_000_000
ARCHIVE_RECENT = 100
ARCHIVE_RECENT_STEP = timedelta(minutes=10)
ARCHIVE_SPAN = timedelta(days=730)


@dataclass(frozen=True)
class Portal:
    domain: str
    name: str
    ip: str
    sections: tuple[str, ...]
    authors: tuple[tuple[str, str], ...]
    """(name, path) of the portal's authors: the network's two author-page URL shapes."""


PORTALS: tuple[Portal, ...] = (
    Portal(
        "fr.de", "Frankfurter Rundschau", "127.0.0.2",
        ("politik", "wirtschaft", "frankfurt", "sport", "ratgeber/wohnen"),
        (("Simone Jung", "/autoren/12611/"),
         ("Peter Rutkowski", "/autoren/peter-rutkowski-per40257/")),
    ),
    Portal(
        "merkur.de", "Merkur", "127.0.0.3",
        ("politik", "wirtschaft", "bayern", "sport", "leben"),
        (("Anna Lorenz", "/autoren/12612/"), ("Felix Huber", "/autoren/felix-huber-per40258/")),
    ),
    Portal(
        "extratipp.com", "Extratipp", "127.0.0.4",
        ("politik", "service", "muenchen", "sport"),
        (("Jana Weiss", "/autoren/12613/"), ("Tom Becker", "/autoren/tom-becker-per40259/")),
    ),
    Portal(
        "24auto.de", "24auto", "127.0.0.5",
        ("politik", "e-auto", "news", "verkehr"),
        (("Christian Schulz", "/autoren/12614/"), ("Lena Vogt", "/autoren/lena-vogt-per40260/")),
    ),
)  # fmt: skip
OUTSIDE = Portal(
    "fnp.de", "Frankfurter Neue Presse", "127.0.0.9", ("politik",), (("Redaktion", "/autoren/1/"),)
)
"""A network portal that is NOT in the registry: linked from pages, must never be fetched."""


@dataclass(frozen=True)
class ArticleMeta:
    """One article page as served on one portal (a syndicated copy has its own meta)."""

    article_id: str
    domain: str
    path: str
    url: str
    canonical: str
    title: str
    lead: str
    section: str
    author: tuple[str, str]
    published: datetime
    layout: str
    """``"2024"`` (fr.de-2024-ambrosia.html furniture) or ``"2020"`` (fr.de-2020-nordkorea)."""
    kind: str = "regular"
    """``"regular"`` or the name of a field of :class:`~tests.mocknet.specials.Specials`."""
    index: int = -1
    encoding: str = "utf-8"


@dataclass
class NetworkSpec:
    articles_per_portal: int
    seed: int
    port: int
    portals: tuple[Portal, ...] = PORTALS
    outside: Portal = OUTSIDE
    archive_epoch: datetime | None = None
    """Set: the regular articles are a two-year archive ending here (module docstring)."""
    specials: Specials = field(init=False)
    _metas: dict[str, ArticleMeta] = field(init=False, repr=False)
    """Special metas by (domain, id) key ``"domain/id"``; regular ones are computed."""

    def __post_init__(self) -> None:
        if self.articles_per_portal < 5:
            raise ValueError("articles_per_portal must be at least 5")
        from tests.mocknet.specials import build_specials  # the catalogue of special cases
        from tests.mocknet.stories import story_metas  # tickers, boxes, tables (unlisted)

        self.specials, self._metas = build_specials(self)
        self._metas.update(story_metas(self))

    # --- addresses ------------------------------------------------------------------
    def base_url(self, domain: str) -> str:
        return f"http://{self.portal(domain).ip}:{self.port}"

    def portal(self, domain: str) -> Portal:
        for portal in (*self.portals, self.outside):
            if portal.domain == domain:
                return portal
        raise KeyError(domain)

    def portal_by_ip(self, ip: str) -> Portal:
        return next(p for p in (*self.portals, self.outside) if p.ip == ip)

    # --- regular articles -----------------------------------------------------------
    def regular_id(self, domain: str, index: int) -> str:
        if self.archive_epoch is not None:  # ids grow with time: index 0 is the highest
            slot = self.articles_per_portal - 1 - index
            return str(ARCHIVE_BASE + 8 * slot + self._portal_number(domain))
        return str(REGULAR_BASE + 8 * index + self._portal_number(domain))

    def _regular_number(self, article_id: str) -> tuple[int, int]:
        """(index, portal number) of a regular id; the index may be out of range."""
        if self.archive_epoch is not None:
            slot, portal_number = divmod(int(article_id) - ARCHIVE_BASE, 8)
            return self.articles_per_portal - 1 - slot, portal_number
        return divmod(int(article_id) - REGULAR_BASE, 8)

    def published(self, serial: int) -> datetime:
        """Publication time of the ``serial``-th newest regular article, network-wide."""
        if self.archive_epoch is None:
            return EPOCH - STEP * serial
        if serial < ARCHIVE_RECENT:
            return self.archive_epoch - ARCHIVE_RECENT_STEP * serial
        start = self.archive_epoch - ARCHIVE_RECENT_STEP * ARCHIVE_RECENT
        total = self.articles_per_portal * len(self.portals)
        older = ARCHIVE_SPAN - ARCHIVE_RECENT_STEP * ARCHIVE_RECENT
        rest = older / max(total - ARCHIVE_RECENT, 1)
        return start - rest * (serial - ARCHIVE_RECENT)

    def id_anchors(self) -> list[str]:
        """The archive's id clock as NEWSCRAWL_ONLINE_ID_ANCHORS values (its breakpoints)."""
        n = self.articles_per_portal
        points = {0, min(ARCHIVE_RECENT // len(self.portals), n - 1), n - 1}
        return sorted(
            f"{self.regular_id(self.portals[0].domain, index)}="
            f"{self.published(index * len(self.portals)).isoformat()}"
            for index in points
        )

    def regular_ids(self, domain: str, section: str | None = None) -> Iterator[str]:
        """Ids of a portal's regular articles, newest first (optionally of one section)."""
        sections = self.portal(domain).sections
        for index in range(self.articles_per_portal):
            if section is None or sections[index % len(sections)] == section:
                yield self.regular_id(domain, index)

    def sitemap_chunks(self, domain: str) -> list[range]:
        """Index ranges of the child sitemaps; the last (oldest) one is the gzip archive."""
        n = self.articles_per_portal
        size = min(SITEMAP_CHUNK, math.ceil(n / 2))
        return [range(start, min(start + size, n)) for start in range(0, n, size)]

    def _portal_number(self, domain: str) -> int:
        return next(i for i, p in enumerate(self.portals) if p.domain == domain)

    # --- lookup ---------------------------------------------------------------------
    def article_on(self, domain: str, article_id: str) -> ArticleMeta | None:
        """The article page with this id served on this portal, if any."""
        special = self._metas.get(f"{domain}/{article_id}")
        if special is not None:
            return special
        if domain == self.outside.domain:
            return self._outside_meta(article_id)
        index, portal_number = self._regular_number(article_id)
        if not (0 <= index < self.articles_per_portal and portal_number < len(self.portals)):
            return None
        if self.portals[portal_number].domain != domain:
            return None
        return self.regular_meta(domain, index)

    def article(self, article_id: str) -> ArticleMeta | None:
        """The story with this id on the portal that owns it (a syndicated copy's original)."""
        for key, meta in self._metas.items():
            if key.endswith(f"/{article_id}") and meta.kind != "syndicated_copy":
                return meta
        index, portal_number = self._regular_number(article_id)
        if index >= 0 and portal_number < len(self.portals):
            return self.article_on(self.portals[portal_number].domain, article_id)
        return None

    def regular_meta(self, domain: str, index: int) -> ArticleMeta:
        portal = self.portal(domain)
        number = self._portal_number(domain)
        article_id = self.regular_id(domain, index)
        rng = text.rng_for(self.seed, "meta", article_id)
        title = text.title(rng, index * len(self.portals) + number)
        section = portal.sections[index % len(portal.sections)]
        zr = "-zr" if index % 2 == 0 else ""
        path = f"/{section}/{text.slugify(title)}{zr}-{article_id}.html"
        url = self.base_url(domain) + path
        return ArticleMeta(
            article_id=article_id, domain=domain, path=path, url=url, canonical=url,
            title=title, lead=text.sentence(rng, 15, 25), section=section,
            author=portal.authors[index % len(portal.authors)],
            published=self.published(index * len(self.portals) + number),
            layout="2020" if index % 3 == 2 else "2024", index=index,
        )  # fmt: skip

    def _outside_meta(self, article_id: str) -> ArticleMeta | None:
        if not article_id.startswith("95"):
            return None
        rng = text.rng_for(self.seed, "outside", article_id)
        title = text.title(rng, int(article_id) - OUTSIDE_BASE_ID)
        path = f"/politik/{text.slugify(title)}-{article_id}.html"
        url = self.base_url(self.outside.domain) + path
        return ArticleMeta(
            article_id=article_id, domain=self.outside.domain, path=path, url=url,
            canonical=url, title=title, lead=text.sentence(rng, 15, 25), section="politik",
            author=self.outside.authors[0], published=EPOCH, layout="2024", kind="outside",
        )  # fmt: skip

    def outside_link(self, number: int) -> str:
        meta = self._outside_meta(str(OUTSIDE_BASE_ID + number % 50))
        assert meta is not None
        return meta.url

    def special_metas(self, domain: str) -> list[ArticleMeta]:
        return [m for key, m in self._metas.items() if key.startswith(f"{domain}/")]

    # --- what a complete crawl stores ---------------------------------------------------
    @cached_property
    def expected_urls(self) -> frozenset[str]:
        """Canonical URL of every article a crawl of all registry portals must store."""
        urls = {
            self.regular_meta(p.domain, i).url
            for p in self.portals
            for i in range(self.articles_per_portal)
        }
        s = self.specials
        urls |= {
            s.syndicated_original,
            s.redirect_new,
            s.external_canonical_page,
            s.body_link_only,
            s.gzip_only,
            s.latin1_page,
        }
        return frozenset(urls)

    @cached_property
    def expected_article_ids(self) -> frozenset[str]:
        return frozenset(url.rsplit("-", 1)[1].removesuffix(".html") for url in self.expected_urls)

    @cached_property
    def never_requested_urls(self) -> frozenset[str]:
        """URLs a polite, registry-bound crawler must never request (robots, outside host)."""
        s = self.specials
        return frozenset({s.disallowed, s.external_canonical, *s.outside_urls})
