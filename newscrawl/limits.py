"""``-a max_articles=N``: a run that ends after N stories, cleanly, to be continued.

An item pipeline just before the store, because only there is an item known to
be a story (extracted and valid) that the store will take. When the Nth passes,
the spider is closed the way Scrapy's CloseSpider extension closes it, with
``finish_reason`` ``max_articles``: the engine stops scheduling requests and
finishes the ones in flight. Those still bring pages, extracted in the worker
pool after the close was asked for; written, they would make a run of N store
N plus the batch in flight (Scrapy's ``CLOSESPIDER_ITEMCOUNT`` stored 64 for 20),
so they are dropped here, counted and logged: nothing is stored of them, so the
next run fetches them again, which is what a limit means.
"""

from __future__ import annotations

from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.defer import deferred_from_coro

FINISH_REASON = "max_articles"
STATE_KEY = "newscrawl_max_articles_passed"
"""Stories passed so far, in ``spider.state``: a resumed run counts on (runargs.py)."""


def parse_max_articles(value: Any) -> int | None:
    """``-a max_articles=``: a positive whole number, or absent."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"max_articles={value!r} is not a positive whole number")
    return int(text)


class MaxArticlesPipeline:
    """Passes items of at most ``max_articles`` stories to the store, then closes the spider.

    A story is counted once by its online id (else its URL): the same id on two portals is
    one story, so it must not use up two of the limit. Copies under another id are found
    only by the store's text comparison and still count twice.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.passed = 0
        self.closing = False
        self.stories: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MaxArticlesPipeline:
        # Off unless the run has a limit: given now, or maybe restored from JOBDIR later.
        spider = crawler.spider
        given = parse_max_articles(getattr(spider, "max_articles", None))
        if given is None and not crawler.settings.get("JOBDIR"):
            raise NotConfigured
        return cls(crawler)

    def process_item(self, item: Any, spider: Any = None) -> Any:
        spider = self.crawler.spider
        limit = parse_max_articles(getattr(spider, "max_articles", None))
        if limit is None:
            return item
        state = getattr(spider, "state", None)
        if state is not None:  # a resumed run goes on counting where it stopped
            self.passed = max(self.passed, state.get(STATE_KEY, 0))
        adapter = ItemAdapter(item)
        story = adapter.get("article_id") or adapter.get("url") or ""
        if story in self.stories:
            return item  # another publication of a story already counted
        if self.passed >= limit:
            self._close(spider, limit)  # a resumed run that had already reached it
            self.stats.inc_value("newscrawl/limits/over_max_articles")
            url = adapter.get("fetched_url")
            raise DropItem(f"max_articles={limit} reached, left for the next run: {url}", "INFO")
        self.passed += 1
        self.stories.add(story)
        self.stats.set_value("newscrawl/limits/max_articles_passed", self.passed)
        if state is not None:
            state[STATE_KEY] = self.passed
        if self.passed >= limit:
            self._close(spider, limit)
        return item

    def _close(self, spider: Any, limit: int) -> None:
        if self.closing:
            return
        self.closing = True
        spider.logger.info("max_articles=%d reached: closing the spider", limit)
        # Scheduled, not awaited, as Scrapy's CloseSpider does: the close waits for the
        # pipelines, this item included, to finish.
        deferred_from_coro(self.crawler.engine.close_spider_async(reason=FINISH_REASON))
