"""A run's arguments, fixed once: ``since`` resolved to a time, and kept for a resume.

An extension on ``spider_opened``, after Scrapy's SpiderState (which loads
``spider.state`` from ``JOBDIR``) and before the spider middlewares' handlers
(extensions connect first): newscrawl/incremental.py then reads the ``since``
set here.

* A new run resolves ``since`` once: ``6h`` becomes the time it meant when the
  run started, and a run without it takes the incremental window or, until a
  backfill has finished (crawl_runs), none (a backfill). ``sites``, ``since``,
  ``max_articles`` and whether it is a backfill go into ``spider.state``.
* A run resumed from its ``JOBDIR`` takes them back from there, whatever the
  command line says now: the same run, not a new one (a resumed backfill keeps
  following every entry whatever the store holds by then: incremental.py reads
  ``spider.backfill``).

A cluster run is left alone: its first worker fixes ``since`` in Redis
(newscrawl/cluster/lock.py) and every worker that joins reads it there.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from newscrawl.dates import parse_since
from newscrawl.incremental import run_since
from newscrawl.store import Store

logger = logging.getLogger(__name__)

STATE_KEY = "newscrawl_run"


class RunArguments:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunArguments:
        if crawler.settings.get("NEWSCRAWL_REDIS_URL"):
            raise NotConfigured  # the cluster fixes a run's arguments in Redis
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        return extension

    def spider_opened(self, spider: Any) -> None:
        if not getattr(spider, "keeps_run_arguments", False):
            return  # ippen-archive: its window is the records' WARC-Date
        state = getattr(spider, "state", None)  # only with JOBDIR (SpiderState)
        saved = state.get(STATE_KEY) if state is not None else None
        if saved is not None:
            restore(spider, saved)
            self.crawler.stats.set_value("newscrawl/run/resumed", 1)
            logger.info("Resumed run: %s", describe(saved))
            return
        arguments = self.resolve(spider)
        restore(spider, arguments)
        if state is not None:
            state[STATE_KEY] = arguments

    def resolve(self, spider: Any) -> dict[str, Any]:
        """This run's arguments, ``since`` as an ISO time (``None``: no cut-off)."""
        settings = self.crawler.settings
        given = getattr(spider, "since", None)
        if given:
            since = parse_since(given)
        elif settings.getbool("NEWSCRAWL_INCREMENTAL"):
            window = timedelta(hours=settings.getfloat("NEWSCRAWL_INCREMENTAL_WINDOW_HOURS"))
            store = Store(settings["NEWSCRAWL_DATABASE_URL"])
            try:
                since = run_since(None, window, lambda: store.backfill_finished(spider.name))
            finally:
                store.close()
        else:
            since = None
        return {
            "sites": list(spider.site_domains),
            "since": since.isoformat() if since else None,
            "backfill": since is None,
            "max_articles": getattr(spider, "max_articles", None),
        }


def restore(spider: Any, arguments: dict[str, Any]) -> None:
    """Give the spider a run's arguments (new or saved)."""
    spider.selected_sites = spider.network.select(arguments["sites"])
    spider.since = arguments["since"]
    spider.backfill = arguments["backfill"]
    spider.max_articles = arguments["max_articles"]
    spider.scope = spider.make_scope()


def describe(arguments: dict[str, Any]) -> str:
    since = "backfill (no since)" if arguments["backfill"] else f"since={arguments['since']}"
    limit = arguments["max_articles"]
    return f"sites={','.join(arguments['sites'])} {since}" + (
        f" max_articles={limit}" if limit else ""
    )
