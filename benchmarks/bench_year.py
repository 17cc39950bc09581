"""A store of a year against an empty store: what a cron run and the query commands cost.

    python benchmarks/bench_year.py [--stories 1000000] [--runs 5] [--sqlite-only]
        [--pg postgresql+psycopg://postgres@127.0.0.1:5432] [--year-sqlite FILE]
        [--year-pg URL] [--workdir DIR]

Builds a store of ``--stories`` stories with ``benchmarks/_bulk_store.py`` (or reuses
one given by ``--year-sqlite``/``--year-pg``, built by an earlier run with ``--keep``),
and an empty store beside it, then measures on both, side by side (medians of
``--runs``):

- start-up: what a cron run does before its first request: crawl lock, ``Store``,
  ``open_run`` (migration check, run record), the incremental window decision;
- lookups: ``Store.stored_fetch`` for 2,000 URLs (1,500 stored publication URLs of the
  last days, 500 never stored: in the empty store none is stored), per URL;
- writes: ``Store.write`` (the writer process, as the crawl) of batches of 200 new
  stories published today, then of the same 200 again, re-fetched unchanged, per item
  (PostgreSQL: the search index filled after them, per item, apart);
- queries: ``articles stats``, ``search WORD --limit 50`` for a word in every story, in
  1 in 8, in 1 in 60 and in 1 in 6,000, ``show ID`` (online id and URL), as the command's
  functions, in-process; and the ``scrapy articles`` commands as subprocesses (Scrapy's
  start-up included).

Then the plan of every statement each part sent, on the year store, with each plan that
scans a whole big table marked ``FULL SCAN``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import _plans  # noqa: E402
from benchmarks._bulk_store import build  # noqa: E402
from benchmarks._bulk_stories import Stories, portals  # noqa: E402
from benchmarks._databases import DEFAULT_PG_SERVER, fresh_database  # noqa: E402
from newscrawl.incremental import run_since  # noqa: E402
from newscrawl.store import Store, fingerprint, make_engine, migrate  # noqa: E402
from newscrawl.store.lock import crawl_lock  # noqa: E402
from newscrawl.store.query import Filters, find_articles, find_story, open_database  # noqa: E402
from newscrawl.store.stats import stats  # noqa: E402
from tests.dbs import synthetic_items  # noqa: E402

BATCH = 200
WINDOW = timedelta(hours=72)
WORDS = {"common": ("word", 0), "frequent": ("word", 600), "topic": ("topic", 20),
         "rare": ("topic", 2000)}  # fmt: skip
"""Words by their rank in the loader's Zipf vocabularies: in nearly every story, in 1 in 8,
in 1 in 60, in 1 in 6,000 (see ``_bulk_stories.Stories``)."""


def median_of(runs: int, call: Callable[[], float]) -> float:
    return statistics.median(call() for _ in range(runs))


def timed(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


# --- the crawl side -----------------------------------------------------------------------


def start_up(url: str) -> None:
    """What ``scrapy crawl`` does with the store before its first request."""
    with crawl_lock(url):
        store = Store(url)
        try:
            store.open_run("ippen", {}, portals())
            run_since(None, WINDOW, lambda: store.backfill_finished("ippen"))
            store.finish_run("finished", {})
        finally:
            store.close()


def lookup_urls(year_url: str, count: int = 2000) -> list[str]:
    """1,500 stored publication URLs of the year store's newest stories, 500 new ones."""
    engine = make_engine(year_url)
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT url FROM article_urls ORDER BY id DESC LIMIT :n"), {"n": count * 3 // 4}
        ).scalars()
        urls = list(stored)
    engine.dispose()
    fresh = [f"https://www.fr.de/politik/nie-gesehen-{n}.html" for n in range(count - len(urls))]
    return urls + fresh


def lookups(url: str, urls: list[str]) -> float:
    """Seconds per ``stored_fetch``."""
    store = Store(url)
    try:
        return timed(lambda: [store.stored_fetch(u, timedelta(hours=24)) for u in urls]) / len(urls)
    finally:
        store.close()


class Items:
    """New stories published today, with ids no store holds (``fresh`` never repeats)."""

    def __init__(self) -> None:
        # Ids no earlier run of this benchmark used either (a year store is reused).
        self.next_id = 100_000_000 + int(time.time()) % 100_000 * 10_000

    def fresh(self, count: int) -> list[dict[str, Any]]:
        now = datetime.now(UTC)
        items = synthetic_items(count, seed=self.next_id, first_id=self.next_id)
        self.next_id += count
        for n, item in enumerate(items):
            item.update(
                published_at=now - timedelta(minutes=n), fetched_at=now,
                simhash=fingerprint(item["text"]),
            )  # fmt: skip
        return items


def writes(url: str, items: list[dict[str, Any]]) -> tuple[float, float, float]:
    """Seconds per item: new, then unchanged (the same again); and PostgreSQL's indexing."""
    store = Store(url)
    store.start_writer()
    try:
        seconds = []
        for expected in ("new", "unchanged"):
            start = time.perf_counter()
            for low in range(0, len(items), BATCH):
                result = store.write(items[low : low + BATCH], [])
                got = getattr(result, expected, None)
                if got != len(items[low : low + BATCH]):
                    raise SystemExit(f"write: {got} of {BATCH} items {expected}: {result!s:.300}")
            seconds.append((time.perf_counter() - start) / len(items))
        indexing = timed(store.index_pending) / len(items)
    finally:
        store.close()
    return seconds[0], seconds[1], indexing


# --- the query commands ----------------------------------------------------------------------


def queries(url: str, words: dict[str, str], story: str) -> dict[str, Callable[[], Any]]:
    from sqlalchemy.engine import make_url

    engine = open_database(make_url(url))
    calls: dict[str, Callable[[], Any]] = {
        "stats": lambda: stats(engine, Filters(), 10),
    }
    for kind, word in words.items():
        calls[f"search {kind} ({word})"] = lambda w=word: find_articles(engine, [w], Filters(), 50)
    calls["show online id"] = lambda: find_story(engine, story)
    calls["show URL"] = lambda: find_story(engine, f"https://www.fr.de/politik/x-{story}.html")
    return calls


def command(url: str, *args: str) -> float:
    """Seconds of one ``scrapy articles`` command (exit 1: nothing found, in the empty store)."""
    run = [sys.executable, "-m", "scrapy", "articles", *args, "--database", url]
    start = time.perf_counter()
    done = subprocess.run(run, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(run)}: exit {done.returncode}: {done.stderr[-300:]!r}")
    return time.perf_counter() - start


# --- the report ---------------------------------------------------------------------------------


def compare(rows: list[tuple[str, float, float, str]]) -> None:
    print(f"{'':34} {'empty':>10} {'year':>10} {'year/empty':>11}")
    for name, empty, year, unit in rows:
        scale = 1000.0 if unit == "ms" else 1.0
        ratio = f"{year / empty:10.2f}x" if empty else ""
        print(f"{name:34} {empty * scale:10.3f} {year * scale:10.3f} {ratio}  {unit}")


def measure(kind: str, empty: str, year: str, runs: int, stories: Stories) -> None:
    rows: list[tuple[str, float, float, str]] = []
    plans: dict[str, list[_plans.Statement]] = {}
    rows.append(
        ("start-up", median_of(runs, lambda: timed(lambda: start_up(empty))),
         median_of(runs, lambda: timed(lambda: start_up(year))), "ms")
    )  # fmt: skip
    with _plans.capture() as plans["start-up"]:
        start_up(year)
    urls = lookup_urls(year)
    rows.append(
        ("lookup per URL", median_of(runs, lambda: lookups(empty, urls)),
         median_of(runs, lambda: lookups(year, urls)), "ms")
    )  # fmt: skip
    with _plans.capture() as plans["lookup"]:
        lookups(year, urls[:1] + urls[-1:])
    made = Items()
    per_item = {name: [] for name in ("empty", "year")}
    for _ in range(runs):
        for name, url in (("empty", empty), ("year", year)):
            per_item[name].append(writes(url, made.fresh(5 * BATCH)))
    for n, label in enumerate(("write new per item", "write unchanged per item", "index per item")):
        if label.startswith("index") and kind == "sqlite":
            continue
        rows.append((label, *(statistics.median(s[n] for s in per_item[name])
                              for name in ("empty", "year")), "ms"))  # fmt: skip
    from newscrawl.store import write_batch

    with _plans.capture() as plans["write"]:
        batch = made.fresh(BATCH)
        engine = make_engine(year)
        write_batch(engine, batch)
        write_batch(engine, batch)
        engine.dispose()
    words = {kind: getattr(stories, pool)(rank) for kind, (pool, rank) in WORDS.items()}
    story = str(93_000_000 + stories.count - 10)
    empty_calls, year_calls = queries(empty, words, story), queries(year, words, story)
    for name, year_call in year_calls.items():
        empty_call = empty_calls[name]
        rows.append(
            (name, median_of(runs, partial(timed, empty_call)),
             median_of(runs, partial(timed, year_call)), "ms")
        )  # fmt: skip
        with _plans.capture() as plans[name]:
            year_calls[name]()
    for args in (("stats",), ("search", words["topic"], "--limit", "50"), ("show", story)):
        rows.append(
            (f"scrapy articles {args[0]} (s)", median_of(3, partial(command, empty, *args)),
             median_of(3, partial(command, year, *args)), "s")
        )  # fmt: skip
    print(f"\n=== {kind}: empty store vs {stories.count:,} stories (medians of {runs} runs)")
    compare(rows)
    engine = make_engine(year)
    for name, statements in plans.items():
        print(_plans.report(name, _plans.explain(engine, statements)))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pg", default=DEFAULT_PG_SERVER)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--pg-only", action="store_true")
    parser.add_argument("--year-sqlite", help="a year store built before (SQLite file)")
    parser.add_argument("--year-pg", help="a year store built before (PostgreSQL URL)")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-year-"))
    stories = Stories(args.stories, datetime.now(UTC))
    kinds = ["sqlite", "postgresql"]
    if args.sqlite_only:
        kinds = ["sqlite"]
    if args.pg_only:
        kinds = ["postgresql"]
    for kind in kinds:
        given = args.year_sqlite and f"sqlite:///{args.year_sqlite}"
        given = given if kind == "sqlite" else args.year_pg
        with fresh_database(kind, workdir, args.pg) as empty:
            migrate(empty)
            if given:
                measure(kind, empty, given, args.runs, stories)
                continue
            with fresh_database(kind, workdir, args.pg) as year:
                start = time.perf_counter()
                report = build(year, args.stories)
                print(f"{kind}: built {report} in {time.perf_counter() - start:.0f} s")
                measure(kind, empty, year, args.runs, stories)


if __name__ == "__main__":
    main()
