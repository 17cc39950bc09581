"""The mock network's sources and HTTP: feed and sitemap shapes, conditional requests,
the request log, updates, serving at scale and its command line."""

from __future__ import annotations

import gzip
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import lxml.etree
import pytest
import trafilatura

from tests.mocknet import MockNetwork
from tests.mocknet.client import RSS_NS, SITEMAP_NS, fetch, sitemap_locs, walk_sitemaps
from tests.mocknet.network import REPO_ROOT

pytest_plugins = ["tests.mocknet.fixtures"]


# --- feeds, sitemaps, HTTP ---------------------------------------------------------------


def test_feeds_and_news_sitemap_shapes(mock_network: MockNetwork):
    base = mock_network.base_url("fr.de")
    feed = fetch(base + "/rssfeed.rdf")
    assert feed.headers["Content-Type"] == "application/rss+xml; charset=utf-8"
    root = lxml.etree.fromstring(feed.body)
    assert root.tag == "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}RDF"
    assert len(root.findall("r:item", RSS_NS)) == 6 + 1  # all regular + the syndicated copy
    politik = lxml.etree.fromstring(fetch(base + "/politik/rssfeed.rdf").body)
    links = [e.text for e in politik.iterfind(".//r:item/r:link", RSS_NS)]
    assert links and all("/politik/" in link for link in links)
    news = fetch(base + "/news.xml")
    assert news.headers["Content-Type"] == "application/xml; charset=utf-8"
    news_root = lxml.etree.fromstring(news.body)
    ns = {**SITEMAP_NS, "n": "http://www.google.com/schemas/sitemap-news/0.9"}
    first = news_root.find("s:url", ns)
    meta = mock_network.article("93036630")
    assert first.findtext("s:loc", namespaces=ns) == mock_network.spec.specials.syndicated_copy
    assert first.findtext(".//n:publication_date", namespaces=ns) == meta.published.isoformat()
    assert (
        first.findtext("s:lastmod", namespaces=ns) == mock_network.lastmod("93036630").isoformat()
    )


def test_sitemaps_list_every_regular_article_once(mock_network: MockNetwork):
    listed: list[str] = []
    for portal in mock_network.spec.portals:
        base = mock_network.base_url(portal.domain)
        children = sitemap_locs(fetch(base + "/sitemap-index.xml").body)
        children += sitemap_locs(fetch(base + "/sitemaps/archive-index.xml").body)
        for child in children:
            body = fetch(child).body
            if child.endswith(".gz"):
                body = gzip.decompress(body)
            if b"<sitemapindex" not in body and not child.endswith("broken.xml"):
                listed += sitemap_locs(body)
    regular = {mock_network.spec.regular_meta(p.domain, i).url
               for p in mock_network.spec.portals for i in range(6)}  # fmt: skip
    assert regular <= set(listed)
    assert len([u for u in listed if u in regular]) == len(regular)


def test_conditional_requests_get_304(mock_network: MockNetwork):
    url = mock_network.spec.regular_meta("merkur.de", 1).url
    first = fetch(url)
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    # published 12:00 - 5 x 23 min = 10:05 +02:00, lastmod 30 min later
    assert last_modified == "Thu, 02 May 2024 08:35:00 GMT"
    assert fetch(url, {"If-None-Match": etag}).status == 304
    assert fetch(url, {"If-None-Match": '"other"'}).status == 200
    not_modified = fetch(url, {"If-Modified-Since": last_modified})
    assert (not_modified.status, not_modified.body) == (304, b"")
    assert fetch(url, {"If-Modified-Since": "Thu, 02 May 2024 08:34:59 GMT"}).status == 200
    sitemap = mock_network.base_url("merkur.de") + "/sitemaps/articles-1.xml"
    assert fetch(sitemap, {"If-None-Match": fetch(sitemap).headers["ETag"]}).status == 304


def test_request_log_records_every_request(mock_network: MockNetwork):
    mock_network.reset_requests()
    base = mock_network.base_url("24auto.de")
    fetch(base + "/robots.txt", {"User-Agent": "newscrawl-test"})
    fetch(base + "/politik/rssfeed.rdf", method="HEAD")
    fetch(base + "/?utm_source=x")
    requests = mock_network.requests()
    host = f"127.0.0.5:{mock_network.port}"
    assert [(r.host, r.path, r.method, r.status) for r in requests] == [
        (host, "/robots.txt", "GET", 200),
        (host, "/politik/rssfeed.rdf", "HEAD", 404),
        (host, "/?utm_source=x", "GET", 200),
    ]
    assert requests[0].headers["User-Agent"] == "newscrawl-test"
    mock_network.reset_requests()
    assert mock_network.requests() == []


# --- updates, scale, command line ----------------------------------------------------------


def test_update_article_changes_page_feeds_and_validators(mock_network_factory):
    net = mock_network_factory(articles_per_portal=5, seed=2)
    meta = net.spec.regular_meta("fr.de", 1)
    before = fetch(meta.url)
    sitemap = net.base_url("fr.de") + "/sitemaps/articles-1.xml"
    assert meta.url in sitemap_locs(fetch(sitemap).body)

    net.update_article(meta.article_id, new_text="Ganz neuer Text.\n\nZweiter Absatz hier.")
    after = fetch(meta.url)
    assert "Ganz neuer Text." in trafilatura.extract(after.text)
    assert after.headers["ETag"] != before.headers["ETag"]
    assert after.headers["Last-Modified"] == "Thu, 02 May 2024 11:30:00 GMT"  # EPOCH + 30 min + 1 h
    assert fetch(meta.url, {"If-None-Match": before.headers["ETag"]}).status == 200
    assert fetch(meta.url, {"If-Modified-Since": before.headers["Last-Modified"]}).status == 200
    root = lxml.etree.fromstring(fetch(sitemap).body)
    lastmods = {
        u.findtext("s:loc", namespaces=SITEMAP_NS): u.findtext("s:lastmod", namespaces=SITEMAP_NS)
        for u in root.iterfind("s:url", SITEMAP_NS)
    }
    assert (
        lastmods[meta.url]
        == "2024-05-02T13:30:00+02:00"
        == net.lastmod(meta.article_id).isoformat()
    )

    net.update_article(meta.article_id, bump_lastmod=False)
    quiet = fetch(meta.url)
    assert quiet.headers["Last-Modified"] == after.headers["Last-Modified"]
    assert quiet.headers["ETag"] != after.headers["ETag"]
    assert "Ganz neuer Text." not in quiet.text


def test_update_reaches_both_copies_of_a_syndicated_story(mock_network_factory):
    net = mock_network_factory(articles_per_portal=5)
    s = net.spec.specials
    net.update_article(s.syndicated_id, new_text="Syndizierter neuer Text.")
    assert all("Syndizierter neuer Text." in fetch(u).text
               for u in (s.syndicated_copy, s.syndicated_original))  # fmt: skip
    with pytest.raises(KeyError):
        net.update_article("12345678")


def test_five_thousand_articles_serve_all_sitemaps_quickly(mock_network_factory):
    net = mock_network_factory(articles_per_portal=1250)
    assert len(net.expected_urls) == 5000 + 6
    started = time.perf_counter()
    listed: set[str] = set()
    for portal in net.spec.portals:
        for locs in walk_sitemaps(net.base_url(portal.domain) + "/sitemap-index.xml").values():
            listed.update(locs)
    elapsed = time.perf_counter() - started
    assert net.expected_urls - listed == {
        net.spec.specials.redirect_new,
        net.spec.specials.body_link_only,
    }
    assert elapsed < 10, elapsed
    print(f"\n5,000 articles: all sitemaps in {elapsed:.2f} s")


def test_serves_hundreds_of_article_pages_per_second(mock_network_factory):
    net = mock_network_factory(articles_per_portal=500)
    urls = [net.spec.regular_meta(p.domain, i).url for i in range(100) for p in net.spec.portals]
    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda u: fetch(u).status, urls))
    rate = len(urls) / (time.perf_counter() - started)
    assert statuses == [200] * len(urls)
    assert rate > 100, rate
    print(f"\n{rate:.0f} article pages/s")


def test_command_line_prints_registry_and_stops_on_sigterm(tmp_path: Path):
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.mocknet", "--articles-per-portal", "5",
         "--workdir", str(tmp_path)],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        registry = Path(process.stdout.readline().strip())
        port = int(process.stdout.readline().split()[1])
        assert registry == tmp_path / "registry.toml"
        assert f"http://127.0.0.5:{port}" in registry.read_text()
        assert fetch(f"http://127.0.0.3:{port}/robots.txt").status == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()


def test_too_small_network_is_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="at least 5"):
        MockNetwork(articles_per_portal=4, workdir=tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "tests.mocknet", "--articles-per-portal", "2",
         "--workdir", str(tmp_path)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 2
    assert (
        result.stderr.strip().splitlines()[-1].endswith("--articles-per-portal must be at least 5")
    )


def test_bind_all_shares_one_port_and_refuses_a_taken_one():
    from tests.mocknet.server import bind_all

    sockets = bind_all(["127.0.0.2", "127.0.0.3"])
    try:
        ports = {sock.getsockname()[1] for sock in sockets}
        assert len(ports) == 1
        with pytest.raises(OSError):
            bind_all(["127.0.0.7", "127.0.0.3"], port=ports.pop())
    finally:
        for sock in sockets:
            sock.close()
