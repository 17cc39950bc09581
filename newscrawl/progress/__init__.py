"""Progress people can read: a live status line on a terminal, a progress line in the log
under cron, and a per-portal table at the end of every crawl.

Scrapy's own ``LogStats`` line says pages and items a minute; an operator wants to know
what the crawl *stored*, how much is still queued, and which portal is busy or silent.

* On a terminal (stderr is a TTY) one status line redraws in place every
  ``NEWSCRAWL_PROGRESS_REFRESH`` seconds, through rich's ``Live``. Scrapy's log keeps
  going to the terminal, printed *through* the live display (its handler's stream is the
  live console while the line is shown), so a log record is never cut by a redraw.
* Where the log does not go to that terminal (cron, a pipe, ``LOG_FILE``) the same line
  is logged every ``NEWSCRAWL_PROGRESS_SECONDS``. It replaces ``LogStats`` (disabled in
  settings.py): it carries the same pages and rate, and two lines a minute saying the
  same is noise.
* At ``spider_closed`` (before the stats dump and the crawl command's summary line) a table
  per portal: pages fetched, stories new / updated / unchanged / duplicate, pages rejected
  (not an article), items the store failed, sources that failed.

Where the counts come from: pages fetched and pages rejected are counted here (Scrapy's
``response_downloaded`` and ``item_dropped`` signals); the store's outcomes and failed
sources from per-portal stats keys the store and the spider set:
``newscrawl/store/<status>/site/<domain>`` and ``newscrawl/source/failed/site/<domain>``.
The store writes in batches, so stored counts lag pages by up to
``NEWSCRAWL_STORE_FLUSH_SECONDS``.

Modules: ``report`` (pure: counts → text), ``terminal`` (the live line), ``extension``.
"""

from newscrawl.progress.extension import CrawlProgress

__all__ = ["CrawlProgress"]
