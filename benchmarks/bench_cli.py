"""Start-up of the reading commands: ``newscrawl search|show|stats|sites|--help`` against
``scrapy articles``, each a fresh process on a small SQLite store.

    python benchmarks/bench_cli.py [--repeat 15] [--against /path/to/other/checkout]

Wall time and CPU (user + system, the child's) per run; prints medians (min-max). The
target (issue 17): a reading command answers in under 0.5 s. Exits 1 when a newscrawl
median is over it.

``--against``: the same commands run from another checkout too, alternating (A B A B) on
the same store, with the ratio of the medians (this / other): on a shared machine only a
side-by-side comparison says whether a change helped.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.query_data import fill  # noqa: E402

TARGET_SECONDS = 0.5
NEWSCRAWL = [sys.executable, "-m", "newscrawl.cli"]
SCRAPY = [str(Path(sys.executable).with_name("scrapy"))]


def commands(url: str) -> dict[str, list[str]]:
    return {
        "newscrawl --help": [*NEWSCRAWL, "--help"],
        "newscrawl sites": [*NEWSCRAWL, "sites"],
        "newscrawl search Ambrosia": [*NEWSCRAWL, "search", "Ambrosia", "-d", url],
        "newscrawl show 93036630": [*NEWSCRAWL, "show", "93036630", "-d", url],
        "newscrawl stats": [*NEWSCRAWL, "stats", "-d", url],
        "scrapy articles search Ambrosia": [*SCRAPY, "articles", "search", "Ambrosia",
                                            "--database", url],
    }  # fmt: skip


def measure(command: list[str], cwd: Path = REPO) -> tuple[float, float]:
    """Wall seconds and CPU seconds of one run (which must succeed), in the checkout
    ``cwd`` (``python -m`` imports newscrawl from there)."""
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def side_by_side(url: str, other: Path, repeat: int) -> None:
    """Each command from this checkout (A) and ``other`` (B), alternating."""
    print(f"A = {REPO}, B = {other}")
    print(f"{'command':34}  {'A wall / cpu s':16}  {'B wall / cpu s':16}  B/A wall  B/A cpu")
    for name, command in commands(url).items():
        measure(command)
        measure(command, other)
        runs: dict[Path, list[tuple[float, float]]] = {REPO: [], other: []}
        for _ in range(repeat):
            for tree in (REPO, other):
                runs[tree].append(measure(command, tree))
        (wall_a, cpu_a), (wall_b, cpu_b) = (
            tuple(statistics.median(v[i] for v in runs[tree]) for i in (0, 1))
            for tree in (REPO, other)
        )
        print(f"{name:34}  {wall_a:6.3f} / {cpu_a:6.3f}  {wall_b:6.3f} / {cpu_b:6.3f}  "
              f"{wall_b / wall_a:8.2f}  {cpu_b / cpu_a:7.2f}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/bench_cli.py", description=__doc__)
    parser.add_argument("--repeat", type=int, default=15, help="runs of each command")
    parser.add_argument("--against", type=Path, help="another checkout, run alternately")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/news.db"
        fill(url)
        if args.against is not None:
            side_by_side(url, args.against.resolve(), args.repeat)
            return 0
        print(f"{'command':34}  {'wall s, median (min-max)':26}  cpu s, median (min-max)")
        slow = []
        for name, command in commands(url).items():
            measure(command)  # warm the page cache and the bytecode
            runs = [measure(command) for _ in range(args.repeat)]
            walls, cpus = [wall for wall, _ in runs], [cpu for _, cpu in runs]
            print(f"{name:34}  {spread(walls):26}  {spread(cpus)}")
            if name.startswith("newscrawl") and statistics.median(walls) > TARGET_SECONDS:
                slow.append(name)
    if slow:
        print(f"over {TARGET_SECONDS} s: {', '.join(slow)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
