"""fundus crawling the mock network, as a fundus user would: the benchmark's peer.

    VENV/bin/python benchmarks/fundus_peer.py --registry sites.toml --out articles.jsonl

Runs in fundus's own virtual environment (built by ``benchmarks/_fundus.py`` from the pins
in ``benchmarks/fundus-requirements.txt``), never in newscrawl's: fundus 0.5.7 pins
``lxml<6`` and imports only with ``curl_cffi`` 0.14. So this file imports nothing of
newscrawl's, and fundus only inside :func:`build_group` and :func:`crawl`, so that its
pure part (:func:`publisher_specs`) is tested in newscrawl's environment.

What it does is what fundus's README shows, with publishers of our own:

* one ``Publisher`` per portal of newscrawl's registry (the mock's ``registry.toml``), in
  one ``PublisherGroup`` declared as ``fundus.publishers.de`` declares ``DE``; its
  sources are the portal's feeds (``RSSFeed``) and sitemaps (``NewsMap`` for the news
  sitemap, ``Sitemap`` for the index, whose nested and gzipped children fundus follows);
* fundus's own parsers: ``FrankfurterRundschauParser`` for fr.de, ``MerkurParser`` for
  merkur.de and for the network's other portals (the same CMS; fundus has no parser of
  theirs, and the Merkur one reads the layout classes every portal shares);
* fundus's own ``Crawler`` (a thread per publisher), politeness lifted as for the other
  peers (``delay=0.0``, ``ignore_crawl_delay=True``), robots.txt obeyed as they do;
  ``crawl()`` with its defaults (only articles with title, body and date; unique by URL).

Each article it yields is written as one JSON line (URLs, title, authors, date, text):
what the benchmark counts as stored. Start pages are not a fundus source: it follows no
links, which is part of what the comparison shows.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import tomllib
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urljoin

PARSERS = {"fr.de": "FrankfurterRundschauParser"}
"""fundus parser (in ``fundus.publishers.de``) by portal; every other portal: Merkur's."""
DEFAULT_PARSER = "MerkurParser"
NEWS_SITEMAP = re.compile(r"(^|/)news[^/]*\.xml(\.gz)?$")
"""A news sitemap (``/news.xml``): fundus's ``NewsMap``, read before the full sitemaps."""


class PublisherSpec(NamedTuple):
    """One fundus ``Publisher``, as plain data: built from the registry without fundus."""

    attribute: str
    """Its attribute name in the ``PublisherGroup`` (fundus's ``Publisher.__name__``)."""
    name: str
    domain: str
    parser: str
    sources: tuple[tuple[str, str], ...]
    """(fundus source class, absolute URL), in the registry's order."""


def publisher_specs(sites: list[dict[str, Any]]) -> list[PublisherSpec]:
    """The publishers for the ``[[sites]]`` tables of a newscrawl registry."""
    specs = []
    for site in sites:
        base = site["base_url"]
        sources = [("RSSFeed", urljoin(base, feed)) for feed in site.get("feeds", [])]
        for sitemap in site.get("sitemaps", []):
            kind = "NewsMap" if NEWS_SITEMAP.search(sitemap) else "Sitemap"
            sources.append((kind, urljoin(base, sitemap)))
        attribute = re.sub(r"\W", "_", site["domain"]).upper()
        parser = PARSERS.get(site["domain"], DEFAULT_PARSER)
        specs.append(PublisherSpec(attribute, site["name"], base, parser, tuple(sources)))
    return specs


def build_group(specs: list[PublisherSpec]) -> Any:
    """A fundus ``PublisherGroup`` of the specs, declared as fundus declares its own."""
    import fundus.publishers.de as parsers
    from fundus.publishers.base_objects import Publisher, PublisherGroup
    from fundus.scraping import url

    attributes: dict[str, Any] = {"default_language": "de"}
    for spec in specs:
        attributes[spec.attribute] = Publisher(
            name=spec.name,
            domain=spec.domain,
            parser=getattr(parsers, spec.parser),
            sources=[getattr(url, kind)(address) for kind, address in spec.sources],
        )
    return PublisherGroup("MockIppen", (), attributes)


def article_row(article: Any) -> dict[str, Any]:
    date = article.publishing_date
    return {
        "requested_url": article.html.requested_url,
        "url": article.html.responded_url,
        "publisher": article.publisher,
        "title": article.title,
        "authors": list(article.authors),
        "date": date.isoformat() if date else None,
        "text": article.plaintext,
    }


def crawl(registry: Path, out: Path) -> dict[str, Any]:
    from fundus import Crawler

    sites = tomllib.loads(registry.read_text(encoding="utf-8"))["sites"]
    group = build_group(publisher_specs(sites))
    # delay=0.0, not None: 0.5.7's Crawler documents None as "no delay" but raises
    # TypeError for it (its build_delay accepts only a float or a Delay).
    crawler = Crawler(group, delay=0.0, ignore_crawl_delay=True)
    started, articles = time.perf_counter(), 0
    with out.open("w", encoding="utf-8") as file:
        for article in crawler.crawl():
            file.write(json.dumps(article_row(article), ensure_ascii=False) + "\n")
            articles += 1
    return {"articles": articles, "seconds": time.perf_counter() - started}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/fundus_peer.py")
    parser.add_argument("--registry", required=True, type=Path, help="newscrawl registry TOML")
    parser.add_argument("--out", required=True, type=Path, help="articles, one JSON a line")
    args = parser.parse_args(argv)
    try:
        result = crawl(args.registry, args.out)
    except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        print(f"fundus_peer: error: {exc!r}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
