"""What the incremental policy's store lookups cost, one URL at a time and in groups.

    python benchmarks/bench_lookups.py [--urls 2000] [--runs 5] [--stored 1000]
        [--pg postgresql+psycopg://postgres@127.0.0.1:5432]

A fresh store of each kind holds ``--stored`` stories; ``--urls`` article URLs, half of
them stored, are asked with ``Store.stored_fetch`` (one statement and, in a crawl, one
thread hop each) and with ``Store.stored_fetches`` in groups of 20 (an article page's
links) and of 500 (a sitemap chunk, ``incremental.LOOKUP_CHUNK``). Printed: wall and CPU
milliseconds per URL, medians of ``--runs``. Both ways must give the same answers; the
script exits 1 if they do not.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._databases import DEFAULT_PG_SERVER, fresh_database
from newscrawl.store import Store, make_engine, migrate, write_batch
from tests.dbs import synthetic_items

RETRY = timedelta(hours=24)


def _timed(call: Callable[[], object], count: int) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return ((time.perf_counter() - wall) * 1000 / count, (time.process_time() - cpu) * 1000 / count)


def measure(url: str, urls: list[str], runs: int) -> dict[str, tuple[float, float]]:
    store = Store(url)
    one = {u: store.stored_fetch(u, RETRY) for u in urls}
    if {u: f for u, f in one.items() if f} != store.stored_fetches(urls, RETRY):
        sys.exit("stored_fetch and stored_fetches disagree")
    ways = {
        "one at a time": lambda: [store.stored_fetch(u, RETRY) for u in urls],
        "20 at a time": lambda: [
            store.stored_fetches(urls[i : i + 20], RETRY) for i in range(0, len(urls), 20)
        ],
        "500 at a time": lambda: [
            store.stored_fetches(urls[i : i + 500], RETRY) for i in range(0, len(urls), 500)
        ],
    }
    result = {}
    for name, call in ways.items():
        samples = [_timed(call, len(urls)) for _ in range(runs)]
        result[name] = (
            statistics.median(s[0] for s in samples),
            statistics.median(s[1] for s in samples),
        )
    store.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--urls", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--stored", type=int, default=1000)
    parser.add_argument("--pg", default=DEFAULT_PG_SERVER)
    args = parser.parse_args()
    items = synthetic_items(args.stored, seed=5)
    stored = [item["url"] for item in items]
    unknown = [f"https://www.fr.de/politik/neu-{195_000_000 + n}.html" for n in range(args.urls)]
    urls = [u for pair in zip(stored, unknown, strict=False) for u in pair][: args.urls]
    print(f"{len(urls)} URLs ({sum(u in set(stored) for u in urls)} stored), "
          f"{args.runs} runs: ms per URL, wall / CPU")  # fmt: skip
    with tempfile.TemporaryDirectory() as workdir:
        for kind in ("sqlite", "postgresql"):
            with fresh_database(kind, Path(workdir), args.pg) as url:
                engine = make_engine(url)
                migrate(engine)
                for low in range(0, len(items), 500):
                    write_batch(engine, items[low : low + 500])
                engine.dispose()
                for name, (wall, cpu) in measure(url, urls, args.runs).items():
                    print(f"{kind:<11} {name:<14} {wall:.3f} / {cpu:.3f}", flush=True)


if __name__ == "__main__":
    main()
