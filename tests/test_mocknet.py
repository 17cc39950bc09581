"""The mock network itself: its registry, its expected set and every special case served
as its spec says (its sources and HTTP: ``test_mocknet_serving.py``)."""

from __future__ import annotations

import gzip
import itertools
import json
import re
import tomllib
from urllib.parse import urlsplit

import lxml.etree
import lxml.html
import pytest
import trafilatura

from tests.mocknet import MockNetwork
from tests.mocknet.client import RSS_NS, fetch, sitemap_locs, walk_sitemaps
from tests.mocknet.spec import OUTSIDE

pytest_plugins = ["tests.mocknet.fixtures"]


def all_article_sources(net: MockNetwork) -> dict[str, set[str]]:
    """URL of each feed, sitemap and listing page -> the article URLs it lists or links."""
    found: dict[str, set[str]] = {}
    for portal in net.spec.portals:
        base = net.base_url(portal.domain)
        for feed in ("/rssfeed.rdf", "/politik/rssfeed.rdf"):
            response = fetch(base + feed)
            if response.status == 200:
                root = lxml.etree.fromstring(response.body)
                found[base + feed] = {e.text for e in root.iterfind(".//r:link", RSS_NS)}
        for root in ("/news.xml", "/sitemap-index.xml"):
            found |= {url: set(locs) for url, locs in walk_sitemaps(base + root).items()}
        for listing in ("/", "/politik/", "/autoren/12611/", "/politik/nachrichten-sti1515528/"):
            found[base + listing] = {
                u for u in fetch(base + listing).links(base) if u.endswith(".html") or "?" in u
            }
    return found


def article_id(url: str) -> str:
    return re.search(r"-(\d{7,9})\.html", url).group(1)


# --- registry and expected set ---------------------------------------------------------


def test_registry_lists_the_four_portals_and_not_the_outside_host(mock_network: MockNetwork):
    registry = tomllib.loads(mock_network.registry_path.read_text())
    port = mock_network.port
    assert [(s["domain"], s["base_url"]) for s in registry["sites"]] == [
        ("fr.de", f"http://127.0.0.2:{port}"),
        ("merkur.de", f"http://127.0.0.3:{port}"),
        ("extratipp.com", f"http://127.0.0.4:{port}"),
        ("24auto.de", f"http://127.0.0.5:{port}"),
    ]
    for site in registry["sites"]:
        assert site["feeds"] == ["/rssfeed.rdf", "/politik/rssfeed.rdf"]
        assert site["sitemaps"] == ["/news.xml", "/sitemap-index.xml"]
        assert site["start_pages"] == ["/", "/politik/"]
    assert OUTSIDE.ip not in mock_network.registry_path.read_text()


def test_expected_set_is_regular_articles_plus_six_specials(mock_network: MockNetwork):
    s = mock_network.spec.specials
    specials = {s.syndicated_original, s.redirect_new, s.external_canonical_page,
                s.body_link_only, s.gzip_only, s.latin1_page}  # fmt: skip
    assert len(mock_network.expected_urls) == 4 * 6 + 6
    assert specials <= mock_network.expected_urls
    excluded = {s.syndicated_copy, s.redirect_old, s.tracking_link, s.disallowed,
                s.external_canonical, s.binary_page, s.empty_page, *s.outside_urls}  # fmt: skip
    assert not excluded & mock_network.expected_urls
    assert mock_network.expected_article_ids == {article_id(u) for u in mock_network.expected_urls}


def test_every_expected_article_is_served_with_itself_as_canonical(mock_network: MockNetwork):
    titles = set()
    for url in sorted(mock_network.expected_urls):
        response = fetch(url)
        assert response.status == 200, url
        assert response.headers["Content-Type"].startswith("text/html; charset=")
        charset = response.headers["Content-Type"].split("charset=")[1]
        tree = lxml.html.fromstring(response.body.decode(charset))
        canonical = tree.xpath("//link[@rel='canonical']/@href")[0]
        meta = mock_network.article(article_id(url))
        assert canonical == meta.canonical
        assert canonical == url or url == mock_network.spec.specials.external_canonical_page
        assert tree.xpath("//meta[@property='og:title']/@content") == [meta.title]
        titles.add(meta.title)
        assert f'"de.ippen-digital.story.onlineId":{meta.article_id}' in response.body.decode(
            charset
        ) or f'"onlineId" : {meta.article_id}' in response.body.decode(charset)
    assert len(titles) == len(mock_network.expected_urls)


@pytest.mark.parametrize("index,layout", [(0, "2024"), (2, "2020")])
def test_article_pages_replace_the_fixture_story(mock_network: MockNetwork, index, layout):
    meta = mock_network.spec.regular_meta("fr.de", index)
    assert meta.layout == layout
    page = fetch(meta.url).text
    for leftover in ("93036630", "13680734", "Warum Ambrosia", "Kim Jong Un: Der", "www.fr.de/"):
        assert leftover not in page
    tree = lxml.html.fromstring(page)
    assert tree.xpath("//meta[@property='og:url']/@content") in ([meta.url], [])
    ld = [json.loads(x) for x in tree.xpath("//script[@type='application/ld+json']/text()")]
    headlines = [d.get("headline") or d.get("mainEntity", {}).get("headline") for d in ld]
    assert meta.title in headlines
    extracted = trafilatura.bare_extraction(page, url=meta.url, with_metadata=True)
    assert extracted.title == meta.title
    assert extracted.date == meta.published.date().isoformat()
    assert len(extracted.text.split()) > 250
    links = fetch(meta.url).links(meta.url)
    assert any(link.endswith(".html") and "127.0.0.3" in link for link in links)  # cross-portal
    assert mock_network.base_url("fr.de") + "/politik/nachrichten-sti1515528/" in links
    assert any("/autoren/" in link for link in links) or layout == "2020"
    assert any("/bilder/" in link or "/assets/" in link for link in links) or layout == "2020"


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def test_extracted_texts_of_any_two_articles_share_under_30_percent(mock_network: MockNetwork):
    texts = {}
    for url in sorted(mock_network.expected_urls - {mock_network.spec.specials.latin1_page}):
        texts[url] = _shingles(trafilatura.extract(fetch(url).text, url=url) or "")
    worst = max(len(a & b) / len(a | b) for a, b in itertools.combinations(texts.values(), 2))
    assert worst < 0.3
    print(f"\nworst 3-shingle Jaccard between two extracted articles: {worst:.3f}")


# --- special cases -----------------------------------------------------------------------


def test_syndicated_copy_names_the_original_on_another_portal(mock_network: MockNetwork):
    s = mock_network.spec.specials
    copy, original = fetch(s.syndicated_copy), fetch(s.syndicated_original)
    assert copy.status == original.status == 200
    copy_tree, original_tree = lxml.html.fromstring(copy.body), lxml.html.fromstring(original.body)
    assert copy_tree.xpath("//link[@rel='canonical']/@href") == [s.syndicated_original]
    assert original_tree.xpath("//link[@rel='canonical']/@href") == [s.syndicated_original]
    assert copy_tree.xpath("//meta[@property='og:url']/@content") == [s.syndicated_copy]
    assert article_id(s.syndicated_copy) == article_id(s.syndicated_original) == "93036630"
    assert urlsplit(s.syndicated_copy).hostname == "127.0.0.2"
    assert urlsplit(s.syndicated_original).hostname == "127.0.0.4"
    # the same story; only the portal-specific "Lesen Sie auch" links differ
    copy_text, original_text = (_shingles(trafilatura.extract(r.text)) for r in (copy, original))
    assert len(copy_text & original_text) / len(copy_text | original_text) > 0.8


def test_old_slug_redirects_to_the_current_one(mock_network: MockNetwork):
    s = mock_network.spec.specials
    response = fetch(s.redirect_old)
    assert (response.status, response.headers["Location"]) == (301, s.redirect_new)
    assert fetch(s.redirect_new).status == 200
    sources = all_article_sources(mock_network)
    merkur = mock_network.base_url("merkur.de")
    assert s.redirect_old in sources[merkur + "/rssfeed.rdf"]
    assert s.redirect_old in sources[merkur + "/"]
    assert not any(s.redirect_new in urls for urls in sources.values())


def test_tracking_link_leads_to_an_existing_article(mock_network: MockNetwork):
    s = mock_network.spec.specials
    assert s.tracking_link == s.tracking_target + "?utm_source=rss&utm_medium=referral#id-Comments"
    assert s.tracking_target in mock_network.expected_urls
    home = mock_network.base_url("fr.de") + "/"
    assert s.tracking_link in fetch(home).links(home)
    response = fetch(s.tracking_link.split("#")[0])
    assert response.status == 200
    assert response.body == fetch(s.tracking_target).body


def test_outside_host_is_linked_and_serves_article_shaped_pages(mock_network: MockNetwork):
    s = mock_network.spec.specials
    linked = set()
    for portal in mock_network.spec.portals:
        home = mock_network.base_url(portal.domain) + "/"
        linked |= fetch(home).links(home) & s.outside_urls
    body_source = mock_network.spec.regular_meta("fr.de", 0).url
    linked |= fetch(body_source).links(body_source) & s.outside_urls
    assert len(linked) == 5  # one per home page, one in the body
    page = fetch(sorted(linked)[0])
    assert page.status == 200
    assert re.search(r'"de.ippen-digital.story.onlineId":95\d{6}', page.text)
    assert all(urlsplit(u).hostname == OUTSIDE.ip for u in s.outside_urls)


def test_robots_disallows_a_linked_article(mock_network: MockNetwork):
    s = mock_network.spec.specials
    base = mock_network.base_url("fr.de")
    robots = fetch(base + "/robots.txt")
    assert robots.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "Disallow: /intern/" in robots.text.splitlines()
    assert s.disallowed.startswith(base + "/intern/")
    assert s.disallowed in fetch(base + "/").links(base)
    assert s.disallowed in sitemap_locs(fetch(base + "/sitemaps/articles-1.xml").body)
    body_source = mock_network.spec.regular_meta("fr.de", 3).url
    assert s.disallowed in fetch(body_source).links(body_source)


def test_external_canonical_points_outside_the_registry(mock_network: MockNetwork):
    s = mock_network.spec.specials
    tree = lxml.html.fromstring(fetch(s.external_canonical_page).body)
    assert tree.xpath("//link[@rel='canonical']/@href") == [s.external_canonical]
    assert urlsplit(s.external_canonical).hostname == OUTSIDE.ip
    assert s.external_canonical_page in mock_network.expected_urls


def test_body_link_only_article_is_nowhere_else(mock_network: MockNetwork):
    s = mock_network.spec.specials
    assert fetch(s.body_link_only).status == 200
    source = fetch(s.body_link_source)
    body = lxml.html.fromstring(source.body).xpath(
        "//p[@class='id-StoryElement-paragraph']//a/@href"
    )
    assert s.body_link_only in body
    listed_in = [
        src for src, urls in all_article_sources(mock_network).items() if s.body_link_only in urls
    ]
    assert listed_in == []


def test_gzip_only_article_sits_in_the_nested_archive_sitemap(mock_network: MockNetwork):
    s = mock_network.spec.specials
    merkur = mock_network.base_url("merkur.de")
    index = sitemap_locs(fetch(merkur + "/sitemap-index.xml").body)
    assert merkur + "/sitemaps/archive-index.xml" in index
    nested = sitemap_locs(fetch(merkur + "/sitemaps/archive-index.xml").body)
    assert nested == [s.gzip_sitemap]
    archive = fetch(s.gzip_sitemap)
    assert archive.headers["Content-Type"] == "application/x-gzip"
    assert archive.body[:2] == b"\x1f\x8b"
    assert s.gzip_only in sitemap_locs(gzip.decompress(archive.body))
    listed_in = [
        src for src, urls in all_article_sources(mock_network).items() if s.gzip_only in urls
    ]
    assert listed_in == [s.gzip_sitemap]


def test_broken_sources_of_24auto(mock_network: MockNetwork):
    s = mock_network.spec.specials
    assert fetch(s.broken_feed).status == 404
    base = mock_network.base_url("24auto.de")
    assert s.malformed_sitemap in sitemap_locs(fetch(base + "/sitemap-index.xml").body)
    malformed = fetch(s.malformed_sitemap)
    assert malformed.status == 200
    with pytest.raises(lxml.etree.XMLSyntaxError):
        lxml.etree.fromstring(malformed.body)


def test_bad_article_pages(mock_network: MockNetwork):
    s = mock_network.spec.specials
    binary, empty = fetch(s.binary_page), fetch(s.empty_page)
    assert (binary.status, binary.headers["Content-Type"]) == (200, "text/html")
    with pytest.raises(UnicodeDecodeError):
        binary.body.decode("utf-8")
    assert (empty.status, empty.body, empty.headers["Content-Length"]) == (200, b"", "0")
    extratipp = mock_network.base_url("extratipp.com")
    home = fetch(extratipp + "/").links(extratipp)
    assert {s.binary_page, s.empty_page} <= home


def test_latin1_article(mock_network: MockNetwork):
    s = mock_network.spec.specials
    response = fetch(s.latin1_page)
    assert response.headers["Content-Type"] == "text/html; charset=ISO-8859-1"
    assert s.latin1_title.encode("iso-8859-1") in response.body
    assert s.latin1_title.encode("utf-8") not in response.body
    tree = lxml.html.fromstring(response.body.decode("iso-8859-1"))
    assert tree.xpath("//h1/text()") == [s.latin1_title]
