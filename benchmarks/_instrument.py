"""Put into the measured ``scrapy crawl ippen`` by settings: the time spent writing.

:class:`TimedStorePipeline` is the real store pipeline with the seconds spent in its
batch writes counted under ``benchmark/store/write_seconds``. It stands in until
``StorePipeline`` records ``newscrawl/store/write_seconds`` itself; the benchmark prefers
that stat when present.
"""

from __future__ import annotations

import time
from typing import Any

from newscrawl.pipelines.store import StorePipeline
from newscrawl.store.write import BatchResult

WRITE_SECONDS = "benchmark/store/write_seconds"


class TimedStorePipeline(StorePipeline):
    def _write(self, *args: Any, **kwargs: Any) -> BatchResult | int:
        # Runs in the writer thread, one batch at a time, so the stat has one writer.
        # Arguments passed through as they are: the store's batch signature may grow.
        start = time.perf_counter()
        try:
            return super()._write(*args, **kwargs)
        finally:
            self.stats.inc_value(WRITE_SECONDS, time.perf_counter() - start)
