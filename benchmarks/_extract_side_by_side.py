"""Extraction cost of this tree against another checkout, measured side by side.

``evaluate_extraction.py --against TREE`` runs this. One worker process per tree
extracts the three real fixture pages (present in every tree since 9a144fc); the
rounds alternate between the two workers, so both see the same load from whatever
else runs on the machine. Reported per page: the median over rounds of each round's
median CPU time (``process_time``, what other processes disturb least) and wall time.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

PAGES = ("ambrosia", "nordkorea", "musk")
PER_ROUND = 20
_WORKER = r"""
import json, statistics, sys, time
sys.path.insert(0, sys.argv[1])
from newscrawl.extract import extract_article
from tests.extract_fixtures import (AMBROSIA_2024, AMBROSIA_URL, MUSK_2021, MUSK_URL,
    NORDKOREA_2020, NORDKOREA_URL)
pages = {"ambrosia": (AMBROSIA_2024, AMBROSIA_URL), "nordkorea": (NORDKOREA_2020, NORDKOREA_URL),
         "musk": (MUSK_2021, MUSK_URL)}
pages = {name: (path.read_bytes(), url) for name, (path, url) in pages.items()}
per_round = int(sys.argv[2])
for raw, url in pages.values():
    for _ in range(per_round):
        extract_article(raw, url)
for line in sys.stdin:
    raw, url = pages[line.strip()]
    cpu, wall = [], []
    for _ in range(per_round):
        c, w = time.process_time(), time.perf_counter()
        extract_article(raw, url)
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    print(json.dumps([statistics.median(cpu) * 1000, statistics.median(wall) * 1000]), flush=True)
"""


def compare(this: Path, other: Path, rounds: int) -> list[dict[str, float | str]]:
    """Per page: medians (ms) of ``other`` ("base") and ``this`` ("new"), CPU and wall."""
    trees = {"base": other, "new": this}
    workers = {
        name: subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(tree), str(PER_ROUND)],
            cwd=tree,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for name, tree in trees.items()
    }
    times: dict[tuple[str, str], list[tuple[float, float]]] = {
        (name, page): [] for name in trees for page in PAGES
    }
    try:
        for number in range(rounds):
            order = ("base", "new") if number % 2 == 0 else ("new", "base")
            for page in PAGES:
                for name in order:
                    worker = workers[name]
                    assert worker.stdin is not None and worker.stdout is not None
                    worker.stdin.write(page + "\n")
                    worker.stdin.flush()
                    line = worker.stdout.readline()
                    if not line:
                        raise RuntimeError(f"the worker of {trees[name]} stopped")
                    cpu, wall = json.loads(line)
                    times[(name, page)].append((cpu, wall))
    finally:
        for worker in workers.values():
            if worker.stdin is not None:
                worker.stdin.close()
            worker.wait(timeout=60)
    rows: list[dict[str, float | str]] = []
    for page in PAGES:
        row: dict[str, float | str] = {"page": page}
        for name in trees:
            cpu, wall = zip(*times[(name, page)], strict=True)
            row[f"{name} cpu"] = statistics.median(cpu)
            row[f"{name} wall"] = statistics.median(wall)
        rows.append(row)
    return rows


def report(rows: list[dict[str, float | str]], other: Path, rounds: int) -> None:
    print(f"extraction ms per page, this tree (new) against {other} (base), {rounds} rounds")
    print("page        base cpu  new cpu  new/base   base wall  new wall  new/base")
    for r in rows:
        bc, nc, bw, nw = (float(r[k]) for k in ("base cpu", "new cpu", "base wall", "new wall"))
        print(
            f"{r['page']:<10} {bc:9.3f} {nc:8.3f} {nc / bc:9.3f}   {bw:9.3f} {nw:9.3f} "
            f"{nw / bw:9.3f}"
        )
