"""Throughput of ``write_batch``: items stored per second on SQLite and PostgreSQL.

    /work/venv/bin/python benchmarks/bench_store.py [--items 4000] [--runs 3] [--batch 200]
        [--sqlite-only] [--pg postgresql://postgres@127.0.0.1:5432]

Items are realistic (~4 KB German body from the fixture texts, unique ids, full metadata,
SimHash computed as in production). Three workloads, each the median of ``--runs`` runs
on a fresh database: ``new`` (empty store), ``unchanged`` (the same items again), and
``mix`` (half new, half already stored).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from newscrawl.store import make_engine, migrate, write_batch
from tests.dbs import synthetic_items


def _write(engine: Any, items: list[dict[str, Any]], batch: int) -> float:
    start = time.perf_counter()
    for offset in range(0, len(items), batch):
        write_batch(engine, items[offset : offset + batch])
    return len(items) / (time.perf_counter() - start)


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
          cleanup: Callable[[str], None] | None = None) -> dict[str, float]:  # fmt: skip
    results: dict[str, list[float]] = {"new": [], "unchanged": [], "mix": []}
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
    return {name: statistics.median(values) for name, values in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=4000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    items = synthetic_items(args.items, seed=11)
    size = sum(len(item["text"]) for item in items) / len(items)
    print(f"{args.items} items, mean body {size:.0f} chars, batch {args.batch}, "
          f"median of {args.runs} runs (items/s)")  # fmt: skip
    targets = [("sqlite", _fresh_sqlite, None)]
    if not args.sqlite_only:
        targets.append(("postgresql", lambda: _fresh_pg(args.pg), lambda u: _drop_pg(args.pg, u)))
    for name, fresh, cleanup in targets:
        result = bench(fresh, items, args.runs, args.batch, cleanup)
        print(f"{name:<11} " + "  ".join(f"{k} {v:7.0f}" for k, v in result.items()))


if __name__ == "__main__":
    main()
