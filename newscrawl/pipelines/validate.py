"""The last gate before the store: only an article with a headline and a body is stored."""

from __future__ import annotations

from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector


class ValidatePipeline:
    """Drops items that extraction filled but that are no article, with a counted reason.

    The extractor already refuses pages with nothing in them; this catches what
    it let through that the store's schema or a reader would not accept.
    """

    def __init__(self, stats: StatsCollector, min_words: int) -> None:
        self.stats = stats
        self.min_words = min_words

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        return cls(crawler.stats, crawler.settings.getint("NEWSCRAWL_MIN_WORDS"))

    def process_item(self, item: Any, spider: Any = None) -> Any:
        adapter = ItemAdapter(item)
        reason = self._problem(adapter)
        if reason:
            self.stats.inc_value("newscrawl/validate/failed")
            self.stats.inc_value(f"newscrawl/validate/failed/{reason}")
            raise DropItem(f"not an article ({reason}): {adapter['fetched_url']}", "WARNING")
        return item

    def _problem(self, adapter: ItemAdapter) -> str | None:
        if not adapter.get("url") or not adapter.get("site"):
            return "no_url"
        if not (adapter.get("title") or "").strip():
            return "no_title"
        text = (adapter.get("text") or "").strip()
        if len(text.split()) < self.min_words:
            return "too_short"
        return None
