"""What revisiting young articles costs a run (issue 14 item 7), side by side on the mock.

``python -m benchmarks.bench_revisit [--rounds 3]``: the mock network (240 regular
articles of May 2024, 23 minutes apart) is crawled once into SQLite; then three runs
with ``-a since=2024-01-01`` (so that the sources' entries are all inside the run's
window, and the store alone skips them) alternate, each on its own copy of that store,
``rounds`` times:

* ``revisit``: 200 revisits (NEWSCRAWL_REVISIT_HOURS wide enough for 200 stories),
  conditional, every one answered 304;
* ``off``: the same incremental run with revisits off (NEWSCRAWL_REVISIT_HOURS=0);
* ``full``: 200 revisits of a store without ETag/Last-Modified: plain fetches, each
  page downloaded, extracted and compared (what a 304 saves).

Prints medians (wall seconds of the whole ``scrapy crawl``, requests, bytes sent and
received) and the ratios to ``off``. Loopback only: the mock network.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import update

from newscrawl.store import make_engine
from newscrawl.store.models import Article
from tests.crawling import crawl
from tests.mocknet import MockNetwork

PER_PORTAL = 60
WIDE = str(24 * 365 * 5)  # hours: every story of the mock is young
# Before the mock's articles: revisits never reach past a run's since (72 h by default).
SINCE = ("-a", "since=2024-01-01")
ON = ("-s", f"NEWSCRAWL_REVISIT_HOURS={WIDE}", "-s", "NEWSCRAWL_REVISIT_MAX=200")
MODES = {"revisit": (*SINCE, *ON), "off": (*SINCE, "-s", "NEWSCRAWL_REVISIT_HOURS=0"),
         "full": (*SINCE, *ON)}  # fmt: skip
KEYS = ("downloader/request_count", "downloader/request_bytes", "downloader/response_bytes",
        "newscrawl/revisit/not_modified", "newscrawl/revisit/changed")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-revisit-"))
    try:
        with MockNetwork(PER_PORTAL, seed=21, workdir=work / "net") as net:
            first = work / "first.db"
            done = crawl(net.registry_path, f"sqlite:///{first}", work)
            assert done.returncode == 0, done.log[-2000:]
            stores = {}
            for mode in MODES:
                stores[mode] = work / f"{mode}.db"
                shutil.copy(first, stores[mode])
            engine = make_engine(f"sqlite:///{stores['full']}")
            with engine.begin() as connection:
                connection.execute(update(Article).values(http_etag=None, http_last_modified=None))
            engine.dispose()
            results: dict[str, list[dict[str, float]]] = {mode: [] for mode in MODES}
            for _ in range(args.rounds):
                for mode, settings in MODES.items():
                    started = time.perf_counter()
                    run = crawl(net.registry_path, f"sqlite:///{stores[mode]}", work, *settings)
                    wall = time.perf_counter() - started
                    assert run.returncode == 0, run.log[-2000:]
                    results[mode].append({"wall": wall, **{k: _stat(run.log, k) for k in KEYS}})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    medians = {
        mode: {key: statistics.median(r[key] for r in runs) for key in ("wall", *KEYS)}
        for mode, runs in results.items()
    }
    print(f"{'mode':8} {'wall s':>7} {'requests':>9} {'sent B':>9} {'received B':>11} "
          f"{'304':>4} {'200':>4}  wall/off")  # fmt: skip
    for mode, m in medians.items():
        print(
            f"{mode:8} {m['wall']:7.2f} {m[KEYS[0]]:9.0f} {m[KEYS[1]]:9.0f} {m[KEYS[2]]:11.0f} "
            f"{m[KEYS[3]]:4.0f} {m[KEYS[4]]:4.0f}  {m['wall'] / medians['off']['wall']:.2f}"
        )


def _stat(log: str, key: str) -> float:
    """A number of the final stats dump (its first key shares the line with the brace)."""
    found = re.findall(rf"'{re.escape(key)}': (\d+(?:\.\d+)?)", log)
    return float(found[-1]) if found else 0.0


if __name__ == "__main__":
    main()
