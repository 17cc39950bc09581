"""Hostile sources, end to end: real ``scrapy crawl`` runs against the mock network with
the hostile routes of ``tests/mocknet/hostile.py`` in the registry.

One crawl meets every hostile case at once beside the whole regular network, so "the rest
of the crawl unharmed" is the same assertion as for a normal crawl: every reachable story
stored. Its peak memory (the sum of the peak RSS of every process of the crawl's tree) is
compared with a normal crawl's of the same network.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from newscrawl.urls import article_id
from tests.crawling import CrawlResult, crawl, stored_articles
from tests.measuring import measured_crawl
from tests.mocknet import MockNetwork, hostile
from tests.mocknet.network import ServedRequest

MB = 1024 * 1024
# Test-only: a trickling page is cut after 10 s instead of the default 30 s, so the crawl
# takes half a minute, not one and a half (the trickle is tried 3 times), with room for a
# loaded CI machine; the mechanism (Scrapy's DOWNLOAD_TIMEOUT) is the same.
TIMEOUT_ARGS = ("-s", "DOWNLOAD_TIMEOUT=10")


# --- the two crawls -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def normal(mock_network: MockNetwork, tmp_path_factory: pytest.TempPathFactory):
    workdir = tmp_path_factory.mktemp("normal")
    result, peak = measured_crawl(
        mock_network.registry_path, f"sqlite:///{workdir / 'news.db'}", workdir, *TIMEOUT_ARGS
    )
    assert result.returncode == 0, result.log[-3000:]
    return result, peak


@pytest.fixture(scope="module")
def run(mock_network: MockNetwork, normal, tmp_path_factory: pytest.TempPathFactory):
    """(db_url, result, peak RSS of the tree, served requests) of the hostile crawl."""
    workdir = tmp_path_factory.mktemp("hostile")
    registry = hostile.hostile_registry(mock_network.spec, workdir / "hostile.toml")
    db_url = f"sqlite:///{workdir / 'news.db'}"
    mock_network.reset_requests()
    result, peak = measured_crawl(registry, db_url, workdir, *TIMEOUT_ARGS)
    return db_url, result, peak, mock_network.requests()


def _stat(result: CrawlResult, key: str) -> float:
    """A numeric stat of the final dump (the last key too, which ends in ``}``)."""
    dump = result.log.rsplit("Dumping Scrapy stats:", 1)[-1]
    match = re.search(rf"^ ?.?'{re.escape(key)}': (\d+(?:\.\d+)?)[,}}]?$", dump, re.M)
    if match is None:
        raise KeyError(key)
    return float(match.group(1))


def _url(net: MockNetwork, name: str) -> str:
    return hostile.meta(net.spec, name).url


def _served(requests: list[ServedRequest], path_part: str) -> list[str]:
    return [r.path for r in requests if path_part in r.path]


def _warnings_naming(result: CrawlResult, text: str) -> list[str]:
    return [
        line for line in result.log.splitlines()
        if text in line and (" WARNING: " in line or " ERROR: " in line)
    ]  # fmt: skip


# --- the crawl as a whole -----------------------------------------------------------------


def test_the_rest_of_the_crawl_is_unharmed(run, mock_network: MockNetwork) -> None:
    db_url, result, _, _ = run
    assert result.returncode == 0, result.stderr[-2000:] + result.log[-3000:]
    assert "Traceback" not in result.log + result.stderr
    honest = {_url(mock_network, name) for name in (*hostile.STORED, "nested")}
    assert set(stored_articles(db_url)) == set(mock_network.expected_urls) | honest


def test_peak_memory_within_100_mb_of_a_normal_crawl(run, normal) -> None:
    _, _, hostile_peak, _ = run
    _, normal_peak = normal
    assert normal_peak > 100 * MB  # the measurement saw the crawl and its workers
    assert hostile_peak - normal_peak < 100 * MB, (hostile_peak / MB, normal_peak / MB)


# --- size and bombs -----------------------------------------------------------------------


def test_billion_laughs_sitemap_is_refused_unexpanded(run, mock_network: MockNetwork) -> None:
    _, result, _, _ = run
    url = mock_network.base_url("fr.de") + "/hostile/laughs.xml"
    assert _stat(result, "newscrawl/source/failed/xml_entities") == 1
    assert _warnings_naming(result, url) == [
        line for line in result.log.splitlines() if f"Source failed (xml_entities): {url}" in line
    ]
    assert len(_warnings_naming(result, url)) == 1


def test_gzip_bomb_sitemap_stops_inflating_at_the_source_limit(run, mock_network) -> None:
    _, result, _, requests = run
    url = mock_network.base_url("fr.de") + "/hostile/bomb.xml.gz"
    assert _served(requests, "/hostile/bomb.xml.gz") == ["/hostile/bomb.xml.gz"]
    assert _stat(result, "newscrawl/source/failed/too_large") == 1
    assert [line.split(" WARNING: ")[1] for line in _warnings_naming(result, url)] == [
        f"Source failed (too_large): {url}"
    ]


def test_content_encoding_bomb_stops_inflating_at_download_maxsize(run, mock_network) -> None:
    _, result, _, _ = run
    url = _url(mock_network, "gzip-bomb")
    lines = _warnings_naming(result, url)
    assert len(lines) == 1
    assert "exceeded DOWNLOAD_MAXSIZE (10485760 B) during decompression" in lines[0]


def test_100_mb_page_is_cut_at_download_maxsize(run, mock_network) -> None:
    _, result, _, _ = run
    url = _url(mock_network, "huge")
    # Scrapy's two lines: the size passed DOWNLOAD_WARNSIZE, then DOWNLOAD_MAXSIZE (cut)
    warn, cut = _warnings_naming(result, url)
    assert "larger than download warn size (2097152)" in warn
    assert "larger than download max size (10485760)" in cut
    # both bodies that grew past 10 MiB, and nothing else
    assert _stat(result, "newscrawl/page/failed/too_large") == 2


def test_trickling_page_is_cut_by_download_timeout(run, mock_network) -> None:
    _, result, _, requests = run
    url = _url(mock_network, "trickle")
    assert len(_served(requests, "/hostile/trickle-")) == 3  # once and RETRY_TIMES = 2 more
    assert _stat(result, "newscrawl/page/failed/timeout") == 1
    lines = _warnings_naming(result, url)
    assert len(lines) == 1
    assert "Gave up retrying" in lines[0] and "took longer than 10.0 seconds" in lines[0]


def test_feed_of_100000_items_is_followed_up_to_the_cap(run, mock_network) -> None:
    _, result, _, _ = run
    url = mock_network.base_url("fr.de") + "/hostile/huge-feed.rdf"
    assert _stat(result, "newscrawl/source/truncated") == 1
    capped = [line for line in result.log.splitlines() if "NEWSCRAWL_FEED_MAX_ITEMS" in line]
    assert len(capped) == 1
    assert capped[0].endswith(
        f"WARNING: Feed has more than 500 items (NEWSCRAWL_FEED_MAX_ITEMS); "
        f"the rest are not followed: {url}"
    )


def test_nested_divs_page_is_stored_with_its_story(run, mock_network: MockNetwork) -> None:
    db_url, _, _, _ = run
    row = stored_articles(db_url)[_url(mock_network, "nested")]
    assert row["title"] == hostile.meta(mock_network.spec, "nested").title
    for paragraph in hostile.paragraphs(mock_network.spec, "nested"):
        assert paragraph in row["text"]
    assert "Tief" not in row["text"]


def test_10000_character_url_is_never_requested(run, mock_network: MockNetwork) -> None:
    _, result, _, requests = run
    spec = mock_network.spec
    assert _stat(result, "urllength/request_ignored_count") == 1
    assert max(len(r.path) for r in requests) < 2083
    ignored = [line for line in result.log.splitlines() if "url length > 2083" in line]
    assert len(ignored) == 1
    expected = f"INFO: Ignoring link (url length > 2083): {hostile.long_url(spec)}"
    assert ignored[0].rstrip().endswith(expected)


# --- redirects and the registry's origins -------------------------------------------------


def test_redirect_loop_ends_at_redirect_max_times(run, mock_network) -> None:
    _, result, _, requests = run
    loop = hostile.meta(mock_network.spec, "loop").path
    assert _served(requests, loop) == [loop] + [f"{loop}?hop={n}" for n in range(1, 6)]
    assert _stat(result, "newscrawl/page/failed/redirect_loop") == 1
    assert [line.split(" WARNING: ")[1] for line in _warnings_naming(result, "loop-")] == [
        f"Page failed (redirect_loop): {_url(mock_network, 'loop')}"
    ]


def test_redirects_off_the_registry_are_never_followed(run, mock_network: MockNetwork) -> None:
    _, result, _, requests = run
    twin = hostile.twin_port(mock_network.workdir)
    # every request went to a portal's own address and port: none to the outside host,
    # none to fr.de's twin on its other port (the server logs those too)
    assert {r.host for r in requests} == {
        f"{p.ip}:{mock_network.port}" for p in mock_network.spec.portals
    }
    assert _stat(result, "newscrawl/offsite/dropped") == 6  # 3 sources and 3 pages
    assert _stat(result, "newscrawl/offsite/dropped/redirect") == 6
    assert _stat(result, "newscrawl/offsite/origins") == 3
    for origin in (f"127.0.0.9:{mock_network.port}", "127.0.0.1:5432", f"127.0.0.2:{twin}"):
        lines = _warnings_naming(result, f"outside the registry: http://{origin}/")
        assert len(lines) == 1, origin


def test_robots_txt_is_obeyed_for_sources(run) -> None:
    _, result, _, requests = run
    # a feed, a sitemap and a start page under fr.de's Disallow: /intern/
    assert _stat(result, "newscrawl/source/failed/robots") == 3
    assert [r.path for r in requests if r.path.startswith("/intern/")] == []


# --- text ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", hostile.STORED)
def test_lying_charsets_keep_their_umlauts(run, mock_network: MockNetwork, name: str) -> None:
    db_url, _, _, _ = run
    row = stored_articles(db_url)[_url(mock_network, name)]
    assert row["title"] == hostile.meta(mock_network.spec, name).title
    for paragraph in hostile.paragraphs(mock_network.spec, name):
        assert paragraph in row["text"]
    assert "\ufffd" not in row["text"] + row["title"]
    assert "Ã" not in row["text"] + row["title"]


# --- robots.txt: Disallow: / and the race -------------------------------------------------


def test_robots_disallow_all_means_no_request_but_robots_txt(
    mock_network: MockNetwork, tmp_path: Path
) -> None:
    """Six sources wait for robots.txt at once: Scrapy 2.19 alone lets four of them out."""
    registry = hostile.twin_registry(mock_network.workdir, tmp_path / "twin.toml")
    twin = f"127.0.0.2:{hostile.twin_port(mock_network.workdir)}"
    mock_network.reset_requests()
    result = crawl(registry, f"sqlite:///{tmp_path / 'news.db'}", tmp_path)
    assert [r.path for r in mock_network.requests() if r.host == twin] == ["/robots.txt"]
    assert _stat(result, "newscrawl/source/failed/robots") == 6
    assert result.returncode == 1  # no source answered
    assert "Traceback" not in result.log


# --- registry bad input -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('feeds = ["file:///etc/passwd"]', "feed 'file:///etc/passwd' is not on a portal"),
        ('start_pages = ["http://127.0.0.9:8/"]', "start page 'http://127.0.0.9:8/' is not on"),
        ('sitemaps = ["http://127.0.0.2:5432/x.xml"]', "sitemap 'http://127.0.0.2:5432/x.xml'"),
    ],
)
def test_a_source_outside_the_registry_is_a_one_line_error(
    tmp_path: Path, line: str, message: str
) -> None:
    registry = tmp_path / "sites.toml"
    registry.write_text(
        f'[[sites]]\ndomain = "fr.de"\nname = "x"\nbase_url = "http://127.0.0.2:8"\n{line}\n',
        encoding="utf-8",
    )
    result = crawl(registry, f"sqlite:///{tmp_path / 'news.db'}", tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"newscrawl: error: sites registry {registry}, entry 1: ")
    assert message in result.stderr
    assert "Spider opened" not in result.log


def test_a_file_base_url_is_a_one_line_error(tmp_path: Path) -> None:
    registry = tmp_path / "sites.toml"
    registry.write_text('[[sites]]\ndomain = "x.de"\nname = "x"\nbase_url = "file:///etc"\n')
    result = crawl(registry, f"sqlite:///{tmp_path / 'news.db'}", tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        f"newscrawl: error: sites registry {registry}, entry 1: base_url must be an http(s) "
        "URL, got 'file:///etc'\n"
    )


def test_article_ids_of_the_hostile_pages_are_articles(mock_network: MockNetwork) -> None:
    """The hostile pages are followed as articles: their URLs pass the network's grammar."""
    for name, online_id, _ in hostile.PAGES:
        assert article_id(_url(mock_network, name)) == online_id
