"""How the pipelines start their worker processes: forkserver, with the workers' modules
preloaded.

forkserver, not fork: forking the crawl process would copy a running reactor. But a
forkserver child starts from a fresh interpreter and imports what it runs (Scrapy,
trafilatura, SQLAlchemy, Alembic): 1.1 s of CPU for each extraction worker and for the
writer, 10 % of a 2,000-page crawl's CPU on two cores, and most of the cost of a cron
run that finds fifty new pages. Imported once in the fork server, those modules are
inherited by every child it forks.

Python 3.11's forkserver does not preload the main script either (it looks for a
``main_path`` key that ``spawn.get_preparation_data`` names ``init_main_from_path``), so
each child re-runs the ``scrapy`` script; preloading ``scrapy.cmdline`` makes that cheap.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.context import ForkServerContext

PRELOAD = ["newscrawl.pipelines.extract", "newscrawl.pipelines.writer", "scrapy.cmdline"]


def forkserver_context() -> ForkServerContext:
    """The forkserver context, its preload set (which counts only until the server starts,
    once per crawl process; later calls leave it as it is)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context
