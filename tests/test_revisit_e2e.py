"""Revisits (issue 14 item 7) end to end: real ``scrapy crawl`` runs against the mock.

The mock serves a two-year archive whose newest articles are ten minutes apart and end
five minutes before the test, so a handful are younger than NEWSCRAWL_REVISIT_HOURS.
One of them changes as a live ticker does: its page states a later edit, while feeds and
sitemaps keep the old date, so the incremental policy alone would never fetch it again.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from newscrawl.store import make_engine
from newscrawl.store.models import ArticleVersion
from newscrawl.urls import article_id
from tests.crawling import crawl, stored_articles
from tests.mocknet import MockNetwork
from tests.mocknet.network import ServedRequest
from tests.mocknet.state import FIRST_EDIT

PER_PORTAL = 30  # 120 articles: the newest 100 ten minutes apart, 20 over two years
REVISIT_HOURS = 6
NEW_TEXT = "Der Liveticker läuft weiter, die Lage hat sich am Abend geändert.\n\n" * 8


def _article_requests(net: MockNetwork) -> list[ServedRequest]:
    return [r for r in net.requests() if article_id(r.url)]


def test_a_run_revisits_young_articles_conditionally_and_stores_the_change(
    mock_network_factory, tmp_path: Path
) -> None:
    epoch = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    net = mock_network_factory(articles_per_portal=PER_PORTAL, seed=11, archive_epoch=epoch)
    spec = net.spec
    assert spec is not None
    database = f"sqlite:///{tmp_path / 'news.db'}"
    first = crawl(net.registry_path, database, tmp_path)
    assert first.returncode == 0, first.log[-3000:]
    assert "newscrawl/revisit/requested" not in first.stats  # an empty store: none
    stored = stored_articles(database)
    regular = [spec.regular_meta(p.domain, i) for p in spec.portals for i in range(PER_PORTAL)]
    assert {m.url for m in regular} <= stored.keys()

    # A young story changes; no feed or sitemap dates it later than the stored copy.
    changed = spec.regular_meta("fr.de", 5)  # the 21st newest of the network
    net.update_article(changed.article_id, NEW_TEXT.strip(), bump_lastmod=True, in_sources=False)
    net.reset_requests()
    started = datetime.now(UTC)
    second = crawl(net.registry_path, database, tmp_path)
    finished = datetime.now(UTC)
    assert second.returncode == 0, second.log[-3000:]

    window = timedelta(hours=REVISIT_HOURS)
    young = {m.url for m in regular if m.published + FIRST_EDIT >= finished - window}
    certain = {m.url for m in regular if m.published + FIRST_EDIT >= started - window}
    assert young == certain, "an article sits on the revisit boundary: rerun"
    assert len(young) == 39  # published at most 6 h 30 min ago (the first edit 30 min later)
    assert changed.url in young

    requests = _article_requests(net)
    assert sorted(r.url for r in requests) == sorted(young)  # each once, old ones never
    assert all(r.headers["If-None-Match"] == stored[r.url]["http_etag"] for r in requests)
    assert all(r.headers["If-Modified-Since"] == stored[r.url]["http_last_modified"]
               for r in requests)  # fmt: skip
    assert {r.url: r.status for r in requests if r.status != 304} == {changed.url: 200}
    stats = second.stats
    assert stats["newscrawl/revisit/requested"] == 39
    assert stats["newscrawl/revisit/not_modified"] == 38
    assert stats["newscrawl/revisit/changed"] == 1
    assert "newscrawl/incremental/not_modified" not in stats  # a revisit's 304 counts once
    assert stats["newscrawl/store/updated"] == 1
    assert "newscrawl/store/new" not in stats

    after = stored_articles(database)
    assert after[changed.url]["text"].startswith("Der Liveticker läuft weiter")
    assert {url for url in after if after[url] != stored[url]} == {changed.url}
    engine = make_engine(database)
    with engine.connect() as connection:
        versions = connection.execute(select(ArticleVersion.article, ArticleVersion.text)).all()
    engine.dispose()
    assert versions == [(after[changed.url]["id"], stored[changed.url]["text"])]

    assert after[changed.url]["modified_at"] == stored[changed.url]["modified_at"] + timedelta(
        hours=1
    )

    # At most REVISIT_MAX, newest first by the later of publication and edit, of the
    # selected portals only: fr.de's four newest and the edited one (its edit is newer
    # than the publication of the fifth).
    net.reset_requests()
    third = crawl(net.registry_path, database, tmp_path,
                  "-a", "sites=fr.de", "-s", "NEWSCRAWL_REVISIT_MAX=5")  # fmt: skip
    assert third.returncode == 0, third.log[-3000:]
    newest_fr = [spec.regular_meta("fr.de", index).url for index in (0, 1, 2, 3, 5)]
    assert sorted((r.url, r.status) for r in _article_requests(net)) == sorted(
        (url, 304) for url in newest_fr
    )
    assert third.stats["newscrawl/revisit/requested"] == 5
    assert third.stats["newscrawl/revisit/not_modified"] == 5
    assert "newscrawl/revisit/changed" not in third.stats
