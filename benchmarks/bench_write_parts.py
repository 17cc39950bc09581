"""Where a new story's write goes, in an empty store and in a store of a year.

    python benchmarks/bench_write_parts.py --store URL [--items 1000] [--runs 3]
        [--pg postgresql+psycopg://postgres@127.0.0.1:5432]

``--store``: a store built by ``benchmarks/_bulk_store.py`` (e.g. one million stories);
an empty store of the same kind is made beside it. In each, ``--items`` new stories
(published now, ids no store holds) are written through the steps of
``store.write.write_batch`` in batches of 200, inside one transaction that is rolled
back, so the store is the same for every run and every variant. Printed per item,
medians of ``--runs``:

- the steps: validating (prepare), reading the stored stories the batch may touch by URL
  and id (lookup), the near-duplicate candidates (SimHash band probes, part of lookup),
  planning, inserting the new stories (with every index and trigger they feed), and the
  publication and version rows (carry out). The commit is not in it (rolled back);
- the insert again with one group of indexes (or the SQLite search trigger) dropped
  inside the transaction: what each costs to keep up.

Why a rolled-back transaction and not ``Store.write``: the same year store measured again
and again (each run of ``bench_year.py`` adds its stories to it), and DDL inside the
transaction, which both databases roll back.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._databases import DEFAULT_PG_SERVER, fresh_database  # noqa: E402
from newscrawl.store import execute, fingerprint, lookup, make_engine, migrate  # noqa: E402
from newscrawl.store.plan import make_plan  # noqa: E402
from newscrawl.store.validate import prepare  # noqa: E402
from tests.dbs import synthetic_items  # noqa: E402

BATCH = 200
STEPS = ("prepare", "lookup", "near-duplicates", "plan", "insert", "carry out")
DROPPED = {
    "SimHash bands (4)": tuple(f"ix_articles_simhash_band{n}_published" for n in range(4)),
    "authors, section": ("ix_articles_authors_site", "ix_articles_section_site"),
    "dates (published, first seen, modified, site)": (
        "ix_articles_published_desc", "ix_articles_first_seen_at", "ix_articles_modified_at",
        "ix_articles_site_published",
    ),
    "search (SQLite FTS5 trigger)": ("TRIGGER articles_fts_insert",),
}  # fmt: skip


def new_items(count: int) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    items = synthetic_items(count, seed=7, first_id=190_000_000)
    for n, item in enumerate(items):
        item.update(published_at=now - timedelta(minutes=n), fetched_at=now,
                    simhash=fingerprint(item["text"]))  # fmt: skip
    return items


def steps(url: str, items: list[dict[str, Any]], dropped: tuple[str, ...] = ()) -> dict[str, float]:
    """Seconds per item of each step, in a transaction rolled back at the end."""
    seconds = dict.fromkeys(STEPS, 0.0)
    near = lookup._near_candidates  # timed apart: it runs inside lookup.load

    def timed_near(*args: Any) -> Any:
        start = time.perf_counter()
        try:
            # Without the band indexes there is no probing them (every item is new anyway).
            return [] if any("simhash_band" in name for name in dropped) else near(*args)
        finally:
            seconds["near-duplicates"] += time.perf_counter() - start

    @contextmanager
    def step(name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        seconds[name] += time.perf_counter() - start

    engine = make_engine(url)
    lookup._near_candidates = timed_near
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(newscrawl_write=True)
            transaction = conn.begin()
            for entry in dropped:  # "NAME" (an index) or "TRIGGER NAME"
                kind, _, name = entry.rpartition(" ")
                conn.exec_driver_sql(f"DROP {kind or 'INDEX'} {name}")
            for low in range(0, len(items), BATCH):
                batch = items[low : low + BATCH]
                with step("prepare"):
                    prepared = {index: prepare(item) for index, item in enumerate(batch)}
                with step("lookup"):
                    known = lookup.load(conn, list(prepared.values()))
                with step("plan"):
                    plan = make_plan(prepared, known)
                with step("insert"):
                    lost = execute.insert_stories(conn, plan.new)
                with step("carry out"):
                    execute.carry_out(conn, plan, lost)
                assert not lost and len(plan.new) == len(batch), "every item is a new story"
            transaction.rollback()
    finally:
        lookup._near_candidates = near
        engine.dispose()
    seconds["lookup"] -= seconds["near-duplicates"]
    return {name: value / len(items) for name, value in seconds.items()}


def medians(runs: int, call: Callable[[], dict[str, float]]) -> dict[str, float]:
    call()  # to warm the caches (the first run also imports and fills SQLAlchemy's caches)
    measured = [call() for _ in range(runs)]
    return {name: statistics.median(m[name] for m in measured) for name in measured[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, help="the big store's URL")
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pg", default=DEFAULT_PG_SERVER)
    args = parser.parse_args()
    items = new_items(args.items)
    kind = "sqlite" if args.store.startswith("sqlite") else "postgresql"
    with (
        tempfile.TemporaryDirectory() as workdir,
        fresh_database(kind, Path(workdir), args.pg) as empty,
    ):
        migrate(make_engine(empty))
        stores = {"empty": empty, "big": args.store}
        table = {
            name: medians(args.runs, partial(steps, url, items)) for name, url in stores.items()
        }
        print(f"{kind}, ms per new story, medians of {args.runs} runs of {args.items}")
        print("| step | empty | big | ratio |\n| --- | --- | --- | --- |")
        for name in (*STEPS, "total"):
            empty_ms, big_ms = (
                1000 * (sum(t.values()) if name == "total" else t[name]) for t in table.values()
            )
            print(f"| {name} | {empty_ms:.3f} | {big_ms:.3f} | {big_ms / empty_ms:.2f} |")
        print("\n| insert without | empty | big | saved in big |\n| --- | --- | --- | --- |")
        for label, names in DROPPED.items():
            if "TRIGGER" in names[0] and kind != "sqlite":
                continue
            insert = {
                store: medians(args.runs, partial(steps, url, items, names))["insert"]
                for store, url in stores.items()
            }
            print(f"| {label} | {1000 * insert['empty']:.3f} | {1000 * insert['big']:.3f} | "
                  f"{1000 * (table['big']['insert'] - insert['big']):.3f} |")  # fmt: skip


if __name__ == "__main__":
    main()
