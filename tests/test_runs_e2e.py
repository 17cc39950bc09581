"""Runs that do what was asked (issue 14), end to end against the mock network.

since=6h on a two-year archive (ids growing with time, articles linking older ones),
sites=fr.de, max_articles=20: real ``scrapy crawl`` subprocesses, exact counts.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from newscrawl.urls import article_id
from tests.crawling import crawl, stored_articles, stored_publications
from tests.mocknet import MockNetwork
from tests.mocknet.state import FIRST_EDIT

ARCHIVE_PER_PORTAL = 750  # 3,000 articles over two years
MARGIN_HOURS = 1.0  # the archive's id clock is exact at its breakpoints (spec.py)


def _article_requests(net: MockNetwork) -> set[str]:
    return {r.url for r in net.requests() if article_id(r.url) and r.status == 200}


def test_since_6h_stores_only_the_window_and_requests_one_hop_out(
    mock_network_factory, db_url: str, tmp_path: Path
) -> None:
    # The archive ends 5 minutes ago: articles are 10 minutes apart there, so `since`
    # (now - 6 h at the crawl's start) falls between two of them.
    epoch = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    net = mock_network_factory(articles_per_portal=ARCHIVE_PER_PORTAL, seed=5, archive_epoch=epoch)
    spec = net.spec
    assert spec is not None
    regular = [spec.regular_meta(p.domain, i) for p in spec.portals for i in range(750)]
    started = datetime.now(UTC)
    result = crawl(
        net.registry_path, db_url, tmp_path, "-a", "since=6h",
        "-s", f"NEWSCRAWL_ONLINE_ID_ANCHORS={','.join(spec.id_anchors())}",
        "-s", f"NEWSCRAWL_ONLINE_ID_MARGIN_HOURS={MARGIN_HOURS}",
    )  # fmt: skip
    finished = datetime.now(UTC)
    assert result.returncode == 0, result.log[-3000:]
    window = timedelta(hours=6)
    inside = {m.url for m in regular if m.published + FIRST_EDIT >= finished - window}
    certain = {m.url for m in regular if m.published + FIRST_EDIT >= started - window}
    assert inside == certain, "an article sits on the since boundary: rerun"
    assert len(inside) == 39  # 10-minute steps: newest 38 published + 30 min edit, + 1

    assert set(stored_articles(db_url)) == inside
    requested = _article_requests(net)
    assert inside <= requested
    outside = requested - inside
    # One hop at most: every page requested outside the window is within the id clock's
    # margin (and the spread of one index over the portals) of since, not in the archive.
    floor = started - window - timedelta(hours=MARGIN_HOURS) - timedelta(minutes=45)
    by_url = {m.url: m for m in regular}
    assert all(by_url[url].published + FIRST_EDIT >= floor for url in outside), outside
    assert 0 < len(outside) <= 12
    stats = result.stats
    assert stats["newscrawl/since/article_requests_outside"] == len(outside)
    assert stats["newscrawl/since/dropped_older"] == len(outside)
    assert stats["newscrawl/since/links_skipped/too_old"] > 0


def test_sites_fr_de_fetches_and_stores_only_fr_de(
    mock_network_factory, db_url: str, tmp_path: Path
) -> None:
    net = mock_network_factory(articles_per_portal=6, seed=6)
    fr = net.base_url("fr.de") + "/"
    result = crawl(net.registry_path, db_url, tmp_path, "-a", "sites=fr.de")
    assert result.returncode == 0, result.log[-3000:]
    requested = _article_requests(net)
    assert requested and all(url.startswith(fr) for url in requested), requested
    # Every story stored was published on fr.de; the syndicated copy keeps its
    # original's (extratipp.com) URL as its identity.
    stored = set(stored_articles(db_url))
    on_fr = {story for url, story in stored_publications(db_url).items() if url.startswith(fr)}
    assert on_fr == stored
    expected_fr = {url for url in net.expected_urls if url.startswith(fr)}
    assert stored == expected_fr | {net.spec.specials.syndicated_original}
    others = {k for k in result.stats if k.startswith("newscrawl/other_portal_links/")}
    assert others == {
        f"newscrawl/other_portal_links/{d}" for d in ("merkur.de", "extratipp.com", "24auto.de")
    }


def _finish_reason(log: str) -> str | None:
    found = re.findall(r"'finish_reason': '([^']+)'", log)
    return found[-1] if found else None


def test_max_articles_20_stores_20(mock_network_factory, db_url: str, tmp_path: Path) -> None:
    net = mock_network_factory(articles_per_portal=12, seed=7)
    result = crawl(net.registry_path, db_url, tmp_path, "-a", "max_articles=20")
    assert _finish_reason(result.log) == "max_articles", result.log[-3000:]
    assert len(stored_articles(db_url)) == 20
    assert result.stats["newscrawl/limits/max_articles_passed"] == 20
    assert "Traceback" not in result.log


def test_max_articles_exits_0(mock_network_factory, db_url: str, tmp_path: Path) -> None:
    net = mock_network_factory(articles_per_portal=6, seed=8)
    result = crawl(net.registry_path, db_url, tmp_path, "-a", "max_articles=5")
    assert result.returncode == 0
    assert "finish_reason=max_articles exit=0" in result.log.splitlines()[-1]


def test_a_resumed_run_keeps_its_arguments(
    mock_network_factory, db_url: str, tmp_path: Path
) -> None:
    net = mock_network_factory(articles_per_portal=6, seed=9)
    jobdir = ("-s", f"JOBDIR={tmp_path / 'job'}")
    first = crawl(net.registry_path, db_url, tmp_path, *jobdir, "-a", "sites=fr.de",
                  "-a", "max_articles=3")  # fmt: skip
    assert _finish_reason(first.log) == "max_articles", first.log[-3000:]
    assert len(stored_articles(db_url)) == 3
    net.reset_requests()
    # Resumed with no arguments: still fr.de only, still a backfill, still at most 3.
    resumed = crawl(net.registry_path, db_url, tmp_path, *jobdir)
    assert "Resumed run: sites=fr.de backfill (no since) max_articles=3" in resumed.log
    assert resumed.stats["newscrawl/run/resumed"] == 1
    fr = net.base_url("fr.de") + "/"
    assert all(url.startswith(fr) for url in _article_requests(net))
    assert len(stored_articles(db_url)) == 3


def test_a_bad_max_articles_is_a_one_line_error_and_no_crawl(tmp_path: Path) -> None:
    result = crawl(Path("newscrawl/sites.toml"), f"sqlite:///{tmp_path}/news.db", tmp_path,
                   "-a", "max_articles=ten")  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == (
        "newscrawl: error: max_articles='ten' is not a positive whole number\n"
    )
    assert not (tmp_path / "news.db").exists()
