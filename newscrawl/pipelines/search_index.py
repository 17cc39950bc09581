"""``SearchIndexer``: keeps PostgreSQL's search index up with a crawl's writes.

The store's writer writes with ``write_batch(..., index_search=False)`` and the pipeline
pokes this indexer after each batch; it fills ``search_vector`` (``Store.index_pending``)
in its own thread, on its own pooled connection, so on PostgreSQL the server's costliest per-row
work (the ``german`` tsvector) runs beside the next batch's writes instead of inside
them. The pipeline waits for it at close, so a finished crawl is fully searchable. If
the database fails here, nothing is lost: the stories are stored and stay pending for
the next crawl (which indexes leftovers when it opens) or ``python -m newscrawl.store
index``. On SQLite there is nothing to do: FTS5 triggers index inside the write.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from scrapy.statscollectors import StatsCollector
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import threads
from twisted.python.failure import Failure

from newscrawl.store import Store

logger = logging.getLogger(__name__)
STATS = "newscrawl/store"


class SearchIndexer:
    def __init__(self, store: Store, stats: StatsCollector) -> None:
        self.store = store
        self.stats = stats
        self.enabled = store.indexes_beside_writes
        self._running: Any = None
        self._again = False
        self._failed = False

    def poke(self) -> None:
        """New or changed stories were committed: index them (now, or after this round)."""
        if not self.enabled or self._failed:
            return
        if self._running is not None:
            self._again = True
            return
        self._again = False
        self._running = threads.deferToThread(self._index)
        self._running.addBoth(self._done)

    async def drain(self) -> None:
        """Wait until every story committed so far is indexed (or indexing failed)."""
        while self._running is not None:
            await maybe_deferred_to_future(self._running)

    def _index(self) -> None:
        # Runs in a thread; the stats collector is a plain dict, safe to bump from here.
        started = time.perf_counter()
        try:
            self.stats.inc_value(f"{STATS}/indexed", self.store.index_pending())
        finally:
            self.stats.inc_value(f"{STATS}/index_seconds", time.perf_counter() - started)

    def _done(self, result: Any) -> None:
        self._running = None
        if isinstance(result, Failure):
            # Once per crawl: the writes have their own retries and dead letters, and an
            # unindexed story is only not yet searchable.
            self._failed = True
            logger.warning(
                "Search index not updated (%s); the stories stay pending until the next "
                "crawl or 'python -m newscrawl.store index'", result.value,
            )  # fmt: skip
            return
        if self._again:
            self.poke()
