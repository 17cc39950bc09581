"""Near-duplicate probes of new stories: the store's band indexes against week-first keys.

    python benchmarks/bench_probe_layouts.py --store FILE [--items 1000] [--runs 5]

``--store``: a SQLite store of a year built by ``benchmarks/_bulk_store.py``; it is only
read. Its band keys are copied into a scratch table ordered by publication week first
(``near_keys``, WITHOUT ROWID, in a database of its own beside a temporary folder), the
layout that keeps a cron run's probes in one small, recently written region of the index.
Then, for ``--items`` new stories published now, in chunks of 200, the near-duplicate
candidates are looked up:

- as the store probes (``lookup._band_matches``: 68 probes a story into the four
  ``(band, published_at, simhash)`` indexes), in the year store and in an empty one;
- in ``near_keys``: the same 68 probes in each week of the window (3) and the undated,
  in the year's keys and in an empty table;

each with SQLite's page cache at its default (2 MB) and at 64 MB. Printed: ms per new
story, medians of ``--runs``, of the probe statements and the band matches they return
(the distance check and reading the near copies come after, the same for both).

Why it exists: to show what a probe costs as the index grows (issue 14), also in a
layout the store does not use; the store itself is not changed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_write_parts import BATCH, new_items  # noqa: E402
from newscrawl.store import dedup, lookup, make_engine, migrate  # noqa: E402
from newscrawl.store.validate import prepare  # noqa: E402

WEEK = timedelta(days=7)
UNDATED = -1
"""The week number of stories without a date: they match every story."""
CACHES_KB = (2_000, 64_000)


def week(moment: datetime | None) -> int:
    return UNDATED if moment is None else int(moment.timestamp() // WEEK.total_seconds())


def key(week_no: int, band_no: int, band: int) -> int:
    return week_no << 18 | band_no << dedup.BAND_BITS | band


def fill_keys(conn: Any) -> None:
    """``near_keys`` from the year store's articles (its own database, ATTACHed)."""
    seconds = int(WEEK.total_seconds())
    when = f"COALESCE(CAST(strftime('%s', published_at) AS INTEGER) / {seconds}, {UNDATED})"
    rows = " UNION ALL ".join(
        f"SELECT ({when} << 18) | ({no} << {dedup.BAND_BITS}) | simhash_band{no}, id, simhash"
        f" FROM main.articles WHERE simhash IS NOT NULL"
        for no in range(dedup.BANDS)
    )
    conn.exec_driver_sql(f"INSERT INTO keys.near_keys SELECT * FROM ({rows}) ORDER BY 1, 2")


def week_first(conn: Any, items: list[dict[str, Any]]) -> int:
    """Candidates (band matches) of ``items`` in ``near_keys``; returns how many."""
    found = 0
    for low in range(0, len(items), BATCH):
        chunk = items[low : low + BATCH]
        dates = [item["published_at"] for item in chunk]
        weeks = [*range(week(min(dates) - WEEK), week(max(dates) + WEEK) + 1), UNDATED]
        keys = sorted({
            key(week_no, band_no, probe)
            for item in chunk
            for band_no, band in enumerate(dedup.bands(item["simhash"]))
            for probe in dedup.probes(band)
            for week_no in weeks
        })  # fmt: skip
        found += len(conn.exec_driver_sql(
            "SELECT k.id, k.simhash FROM json_each(?) AS probe"
            " CROSS JOIN keys.near_keys AS k ON k.key = probe.value", (json.dumps(keys),),
        ).all())  # fmt: skip
    return found


def band_indexes(conn: Any, chunks: list[list[Any]]) -> int:
    """Band matches of the chunks' stories as the store probes them (``lookup._band_matches``)."""
    found = 0
    for chunk in chunks:
        probe_sets: list[set[int]] = [set() for _ in range(dedup.BANDS)]
        for prep in chunk:
            for band_no, band in enumerate(dedup.bands(prep.simhash)):
                probe_sets[band_no].update(dedup.probes(band))
        found += len(conn.execute(lookup._band_matches(conn, chunk, probe_sets)).all())
    return found


def median_ms(runs: int, call: Callable[[], int], count: int) -> float:
    call()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return 1000 * statistics.median(samples) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, type=Path, help="the year store (SQLite file)")
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    items = new_items(args.items)
    prepared = [prepare(item) for item in items]
    chunks = [prepared[low : low + BATCH] for low in range(0, len(prepared), BATCH)]
    with tempfile.TemporaryDirectory(dir=args.store.parent) as workdir:
        stores = {"year": args.store, "empty": Path(workdir, "empty.db")}
        migrate(make_engine(f"sqlite:///{stores['empty']}"))
        print(f"ms per new story, medians of {args.runs} runs of {args.items}")
        print("| layout | cache | empty | year |\n| --- | --- | --- | --- |")
        rows: dict[tuple[str, int], dict[str, float]] = {}
        for name, path in stores.items():
            engine = make_engine(f"sqlite:///{path}")
            with engine.connect() as conn:
                conn.exec_driver_sql(f"ATTACH '{workdir}/keys-{name}.db' AS keys")
                conn.exec_driver_sql(
                    "CREATE TABLE keys.near_keys (key INTEGER NOT NULL, id INTEGER NOT NULL,"
                    " simhash INTEGER NOT NULL, PRIMARY KEY (key, id)) WITHOUT ROWID"
                )
                fill_keys(conn)
                conn.commit()
                for cache in CACHES_KB:
                    conn.exec_driver_sql(f"PRAGMA cache_size=-{cache}")
                    for layout, call, given in (
                        ("band indexes", band_indexes, chunks),
                        ("week first", week_first, items),
                    ):
                        ms = median_ms(args.runs, lambda c=call, g=given: c(conn, g), len(items))
                        rows.setdefault((layout, cache), {})[name] = ms
            engine.dispose()
        for (layout, cache), ms in rows.items():
            print(f"| {layout} | {cache // 1000} MB | {ms['empty']:.3f} | {ms['year']:.3f} |")


if __name__ == "__main__":
    main()
