"""The last gate before the store: only an article with a headline and a body, not older
than the run's ``since``, is stored."""

from __future__ import annotations

from datetime import datetime
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

    def __init__(self, stats: StatsCollector, min_words: int, crawler: Crawler | None = None):
        self.stats = stats
        self.min_words = min_words
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        return cls(crawler.stats, crawler.settings.getint("NEWSCRAWL_MIN_WORDS"), crawler)

    def process_item(self, item: Any, spider: Any = None) -> Any:
        adapter = ItemAdapter(item)
        reason = self._problem(adapter)
        if reason is None and older_than(adapter, self._since()):
            # The spider fetched it as undated or inside the id clock's margin; its page
            # says it is older than since, which only extraction reads for sure.
            self.stats.inc_value("newscrawl/since/dropped_older")
            raise DropItem(f"older than since: {adapter['fetched_url']}", "INFO")
        if reason:
            self.stats.inc_value("newscrawl/validate/failed")
            self.stats.inc_value(f"newscrawl/validate/failed/{reason}")
            raise DropItem(f"not an article ({reason}): {adapter['fetched_url']}", "WARNING")
        return item

    def _since(self) -> datetime | None:
        spider = self.crawler.spider if self.crawler is not None else None
        return getattr(spider, "window_start", None)

    def _problem(self, adapter: ItemAdapter) -> str | None:
        if not adapter.get("url") or not adapter.get("site"):
            return "no_url"
        if not (adapter.get("title") or "").strip():
            return "no_title"
        text = (adapter.get("text") or "").strip()
        if len(text.split()) < self.min_words:
            return "too_short"
        return None


def older_than(adapter: ItemAdapter, since: datetime | None) -> bool:
    """Published and last modified before ``since`` (an undated article is kept)."""
    dates = [d for d in (adapter.get("published_at"), adapter.get("modified_at")) if d]
    return since is not None and bool(dates) and max(dates) < since
