"""Throughput of ``write_batch``: items stored per second on SQLite and PostgreSQL.

    /work/venv/bin/python benchmarks/bench_store.py [--items 2000] [--runs 3] [--batch 500]
        [--sqlite-only] [--pg postgresql://postgres@127.0.0.1:5432]

Items are realistic (~4 KB German body from the fixture texts, unique ids, full metadata).
Two kinds of items: ``crawl`` carry the ``simhash`` that the extraction workers compute
(``dedup.fingerprint``), as the crawl delivers them; ``bare`` have none, so the writer
computes it. Three workloads, each on a fresh database: ``new`` (empty store),
``unchanged`` (the same items again), and ``mix`` (half new, half already stored).
Writes go as the crawl's store pipeline sends them: ``write_batch(..., index_search=False)``
with PostgreSQL's search vector filled beside them by ``index_pending`` on a second
connection (``newscrawl.pipelines.search_index``). Printed: median items/s stored of
``--runs`` runs with min-max, the writer process's CPU time per item (the part that
competes with the crawl for a core; the rest is the database server's work and waiting),
and on PostgreSQL the rate at which the stories became searchable (the index caught up).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from newscrawl.store import index_pending, make_engine, migrate, write_batch
from newscrawl.store.dedup import fingerprint
from tests.dbs import synthetic_items

Sample = tuple[float, float, float]
"""(items per second stored, writer CPU milliseconds per item, items per second searchable)"""


def _index_beside(engine: Any, written: threading.Event) -> None:
    """What the pipeline's ``SearchIndexer`` does: index until the writes are done and
    nothing is pending."""
    while True:
        finished = written.is_set()
        if index_pending(engine) == 0:
            if finished:
                return
            time.sleep(0.01)


def _write(engine: Any, items: list[dict[str, Any]], batch: int) -> Sample:
    written = threading.Event()
    indexer = threading.Thread(target=_index_beside, args=(engine, written))
    start, cpu = time.perf_counter(), time.thread_time()
    indexer.start()
    for offset in range(0, len(items), batch):
        write_batch(engine, items[offset : offset + batch], index_search=False)
    stored, cpu = time.perf_counter() - start, time.thread_time() - cpu
    written.set()
    indexer.join()
    searchable = time.perf_counter() - start
    return len(items) / stored, cpu * 1000 / len(items), len(items) / searchable


def _fresh_sqlite() -> str:
    return f"sqlite:///{tempfile.mkdtemp(prefix='bench-')}/news.db"


def _fresh_pg(server: str) -> str:
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    name = f"newscrawl_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{server}/{name}"


def _drop_pg(server: str, url: str) -> None:
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def bench(fresh: Callable[[], str], items: list[dict[str, Any]], runs: int, batch: int,
          cleanup: Callable[[str], None] | None = None) -> dict[str, list[Sample]]:  # fmt: skip
    results: dict[str, list[Sample]] = {"new": [], "unchanged": [], "mix": []}
    half = len(items) // 2
    for _ in range(runs):
        url = fresh()
        engine = make_engine(url)
        migrate(engine)
        results["new"].append(_write(engine, items, batch))
        results["unchanged"].append(_write(engine, items, batch))
        engine.dispose()
        if cleanup:
            cleanup(url)
        url = fresh()
        engine = make_engine(url)
        migrate(engine)
        _write(engine, items[:half], batch)
        mixed = [item for pair in zip(items[:half], items[half:], strict=False) for item in pair]
        results["mix"].append(_write(engine, mixed, batch))
        engine.dispose()
        if cleanup:
            cleanup(url)
    return results


def _summary(samples: list[Sample]) -> str:
    rates = [rate for rate, _, _ in samples]
    cpu = statistics.median(cpu for _, cpu, _ in samples)
    return f"{statistics.median(rates):6.0f} ({min(rates):.0f}-{max(rates):.0f}) {cpu:.2f} ms"


def _searchable(samples: list[Sample]) -> str:
    rates = [rate for _, _, rate in samples]
    return f"{statistics.median(rates):6.0f} ({min(rates):.0f}-{max(rates):.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    bare = synthetic_items(args.items, seed=11)
    crawl = [dict(item, simhash=fingerprint(item["text"])) for item in bare]
    size = sum(len(item["text"]) for item in bare) / len(bare)
    print(f"{args.items} items, mean body {size:.0f} chars, batch {args.batch}, {args.runs} runs: "
          "median items/s (min-max) and median writer CPU per item")  # fmt: skip
    targets = [("sqlite", _fresh_sqlite, None)]
    if not args.sqlite_only:
        targets.append(("postgresql", lambda: _fresh_pg(args.pg), lambda u: _drop_pg(args.pg, u)))
    print(
        f"{'database':<11} {'items':<6} " + "".join(f"{w:<28}" for w in ("new", "unchanged", "mix"))
    )
    for name, fresh, cleanup in targets:
        for kind, items in (("crawl", crawl), ("bare", bare)):
            result = bench(fresh, items, args.runs, args.batch, cleanup)
            row = "".join(f"{_summary(samples):<28}" for samples in result.values())
            print(f"{name:<11} {kind:<6} {row}", flush=True)
            if name == "postgresql":
                row = "".join(f"{_searchable(samples):<28}" for samples in result.values())
                print(f"{'  searchable':<18} {row}", flush=True)


if __name__ == "__main__":
    main()
