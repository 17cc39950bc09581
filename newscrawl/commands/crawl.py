"""``scrapy crawl`` with one-line errors for bad arguments and an exit status cron can read.

Scrapy's own crawl command exits 0 whenever the crawl started; cron and
monitoring need to know whether it *worked*, so this one reads the crawl's
final stats. Exit statuses (documented in the README):

* 0 the crawl finished and stored everything it extracted
* 1 the crawl failed: interrupted, or no source of any selected portal answered
* 2 bad arguments or settings (unknown site, unreadable registry)
* 3 items could not be written and wait in the dead-letter file
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import Any

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from newscrawl.network import DEFAULT_SITES_PATH, Network, RegistryError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_DEADLETTER = 0, 1, 2, 3


def exit_status(stats: Mapping[str, Any]) -> int:
    if stats.get("newscrawl/store/deadletter", 0):
        return EXIT_DEADLETTER
    if stats.get("finish_reason") != "finished":
        return EXIT_FAILED
    sources_ok = sum(
        stats.get(f"newscrawl/source/{kind}", 0) for kind in ("sitemap", "feed", "page")
    )
    if sources_ok == 0 and stats.get("newscrawl/source/failed", 0):
        return EXIT_FAILED
    return EXIT_OK


class Command(ScrapyCrawlCommand):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one spider, e.g. 'scrapy crawl ippen'")
        assert self.settings is not None and self.crawler_process is not None
        try:
            network = Network.load(self.settings.get("NEWSCRAWL_SITES") or DEFAULT_SITES_PATH)
            sites = opts.spargs.get("sites")
            network.select(sites.split(",") if sites else None)
        except RegistryError as exc:
            print(f"newscrawl: error: {exc}", file=sys.stderr)
            self.exitcode = EXIT_USAGE
            return
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = EXIT_FAILED
        else:
            self.exitcode = exit_status(crawler.stats.get_stats())
