"""``StatsToJson``: a Scrapy extension that writes a crawl's final stats to a JSON file.

Enabled by the benchmark in both crawls (newscrawl and the baseline) with
``BENCHMARK_STATS_FILE``, so it reads the stats as data instead of parsing the log's
pprint dump.
"""

from __future__ import annotations

import json
from pathlib import Path

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

EXTENSION = "benchmarks._stats.StatsToJson"


class StatsToJson:
    def __init__(self, crawler: Crawler, path: Path) -> None:
        self.crawler = crawler
        self.path = path

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StatsToJson:
        path = crawler.settings.get("BENCHMARK_STATS_FILE")
        if not path:
            raise NotConfigured("BENCHMARK_STATS_FILE is not set")
        extension = cls(crawler, Path(path))
        # engine_stopped comes after spider_closed, when every pipeline has closed.
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    def engine_stopped(self) -> None:
        assert self.crawler.stats is not None
        stats = self.crawler.stats.get_stats()
        self.path.write_text(json.dumps(stats, default=str, indent=1, sort_keys=True))
