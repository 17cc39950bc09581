"""The crawl's final stats as a Prometheus text file, for node_exporter's textfile collector.

``-s NEWSCRAWL_METRICS_FILE=/var/lib/node_exporter/newscrawl.prom``: when the spider
closes, every numeric stat becomes one sample of ``newscrawl_stat{key="..."}`` (Scrapy's
keys hold ``/`` and so cannot be metric names), every time stat one of
``newscrawl_stat_timestamp_seconds{key="..."}``, and the finish reason a labelled 1.
The file is written whole to a temporary file beside it and renamed over the old one, so
the collector never reads half a file. Unset: the extension is off (``NotConfigured``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector

SETTING = "NEWSCRAWL_METRICS_FILE"


def _label(text: str) -> str:
    # The exposition format's escapes for a label value.
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prometheus_text(stats: Mapping[str, Any], spider: str) -> str:
    """``stats`` in the Prometheus text exposition format (pure: tested as a table)."""
    numbers, times = [], []
    for key in sorted(stats):
        value = stats[key]
        labels = f'spider="{_label(spider)}",key="{_label(key)}"'
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            numbers.append(f"newscrawl_stat{{{labels}}} {value}")
        elif isinstance(value, datetime):
            times.append(f"newscrawl_stat_timestamp_seconds{{{labels}}} {value.timestamp():.3f}")
    lines = [
        "# HELP newscrawl_stat A numeric stat of the last crawl (Scrapy's stats).",
        "# TYPE newscrawl_stat gauge",
        *numbers,
        "# HELP newscrawl_stat_timestamp_seconds A time stat of the last crawl.",
        "# TYPE newscrawl_stat_timestamp_seconds gauge",
        *times,
    ]
    reason = stats.get("finish_reason")
    if reason is not None:
        lines += [
            "# HELP newscrawl_finish_reason Why the last crawl ended (1 for its reason).",
            "# TYPE newscrawl_finish_reason gauge",
            f'newscrawl_finish_reason{{spider="{_label(spider)}",'
            f'reason="{_label(str(reason))}"}} 1',
        ]
    return "\n".join(lines) + "\n"


def write_atomically(path: Path, text: str) -> None:
    """``text`` into ``path`` via a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, 0o644)  # mkstemp's 0600 would hide it from node_exporter
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class PrometheusMetrics:
    """Extension: the final stats into ``NEWSCRAWL_METRICS_FILE`` at spider close."""

    def __init__(self, path: Path, stats: StatsCollector) -> None:
        self.path = path
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrometheusMetrics:
        path = crawler.settings.get(SETTING)
        if not path:
            raise NotConfigured(f"{SETTING} is not set")
        assert crawler.stats is not None
        extension = cls(Path(path), crawler.stats)
        # After CoreStats (connected earlier), which sets finish_reason and the times.
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_closed(self, spider: Spider, reason: str) -> None:
        stats = {"finish_reason": reason, **self.stats.get_stats()}
        write_atomically(self.path, prometheus_text(stats, spider.name))
