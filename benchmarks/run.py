"""The crawl benchmark: newscrawl against fundus, the naive baseline, trafilatura's ceiling.

    python benchmarks/run.py [--articles 2000] [--repeat 3] [--databases sqlite,postgresql]

Starts the mock network (``tests.mocknet``, served by its own process, so serving is not
counted) with N article pages over its four portals, then per repeat measures:

* ``scrapy crawl ippen`` (the users' command, politeness lifted for the mock, every page
  fetched: not incremental) into a fresh database of each kind;
* the naive baseline (``benchmarks/baseline_spider.py``) on the same pages and database;
* the ceiling: ``trafilatura.extract`` alone on the same pages, one process;
* with ``--fundus``: fundus 0.5.7 (``benchmarks/fundus_peer.py``, in an environment of its
  own that ``benchmarks/_fundus.py`` builds on first use) on the same mock, once a repeat;
* with ``--versus CHECKOUT``: the same crawl run from another checkout (main, say), and
  with ``--variant 'LABEL:NAME=VALUE,...'``: this checkout with other settings, each in
  every repeat, interleaved with this checkout's run, so that ratios compare runs made
  side by side (issue 18: each process design measured against the others).

Each crawl runs under ``benchmarks._reaper``: CPU of its whole process tree, workers
included; peak RSS per process (and summed over the tree) sampled from /proc. Prints the
machine, one table of medians (min–max) and the issues' targets. Exits 1 when a newscrawl
run did not store exactly the mock's expected pages, 2 on bad arguments, an unreachable
database or a fundus environment that cannot be built.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
# Run as a script (python benchmarks/run.py), the repository root is not on sys.path.
sys.path.insert(0, str(REPO))

from benchmarks import _databases as databases  # noqa: E402
from benchmarks import _fundus as fundus  # noqa: E402
from benchmarks import _report as report  # noqa: E402
from benchmarks import _runs as runs  # noqa: E402
from benchmarks._records import NO_DATABASE, CeilingRun, CrawlRun  # noqa: E402
from tests.mocknet import MockNetwork  # noqa: E402
from tests.mocknet.spec import PORTALS  # noqa: E402


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/run.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--articles", type=int, default=2000, help="article pages (20–50000)")
    parser.add_argument("--repeat", type=int, default=3, help="measurements of each run")
    parser.add_argument("--databases", default="sqlite,postgresql", help="sqlite,postgresql")
    parser.add_argument(
        "--ceiling-pages", type=int, default=2000,
        help="pages of the ceiling loop (an even sample when N is larger)",
    )  # fmt: skip
    parser.add_argument(
        "--only-newscrawl", action="store_true",
        help="skip the baseline and the ceiling (memory runs at large N)",
    )  # fmt: skip
    parser.add_argument(
        "--fundus", action="store_true",
        help="also measure fundus 0.5.7 (its environment is built on first use: needs PyPI)",
    )  # fmt: skip
    parser.add_argument(
        "--fundus-venv", type=Path, default=None,
        help="fundus's environment (default: a folder in ~/.cache/newscrawl named by its pins)",
    )  # fmt: skip
    parser.add_argument(
        "--versus", type=Path, default=None,
        help="another checkout of newscrawl to crawl in every repeat too (e.g. main's)",
    )  # fmt: skip
    parser.add_argument(
        "--variant", action="append", default=[], metavar="LABEL:NAME=VALUE,...",
        help="this checkout again with these settings, in every repeat (repeatable)",
    )  # fmt: skip
    parser.add_argument("--pg-server", default=databases.DEFAULT_PG_SERVER)
    parser.add_argument("--json", type=Path, help="also write every measurement here")
    parser.add_argument("--keep-workdir", action="store_true", help="keep logs and databases")
    args = parser.parse_args(argv)
    if not 20 <= args.articles <= 50_000:
        parser.error("--articles must be between 20 and 50000")
    if args.repeat < 1 or args.ceiling_pages < 1:
        parser.error("--repeat and --ceiling-pages must be at least 1")
    try:
        args.variants = [runs.parse_variant(v) for v in args.variant]
    except ValueError as exc:
        parser.error(f"--variant: {exc}")
    if args.versus is not None:
        if not (args.versus / "newscrawl" / "settings.py").is_file():
            parser.error(f"--versus: {args.versus} is not a newscrawl checkout")
        args.variants.append(runs.versus_variant(args.versus))
    args.databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    unknown = sorted(set(args.databases) - set(databases.KINDS))
    if unknown or not args.databases:
        parser.error(
            f"--databases: unknown {', '.join(unknown) or '(none)'}; use sqlite,postgresql"
        )
    return args


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the whole benchmark -----------------------------------------------------------------
def benchmark(args: argparse.Namespace, workdir: Path) -> tuple[list[Any], list[Any]]:
    crawls: list[CrawlRun] = []
    ceilings: list[CeilingRun] = []
    per_portal = max(5, math.ceil(args.articles / len(PORTALS)))
    crawlers = ["newscrawl", *(v.name for v in args.variants)]
    crawlers += [] if args.only_newscrawl else ["baseline"]
    with MockNetwork(per_portal, seed=1, workdir=workdir / "mocknet") as net:
        log(f"mock network: {per_portal} articles × {len(PORTALS)} portals; "
            f"{len(net.expected_urls)} pages to store")  # fmt: skip
        mock_pid = runs.mock_pid()
        pages = workdir / "pages"
        if not args.only_newscrawl:
            runs.fetch_pages(sorted(net.expected_urls), args.ceiling_pages, pages)
        for repeat in range(1, args.repeat + 1):
            if not args.only_newscrawl:
                ceilings.append(runs.run_ceiling(pages, workdir, repeat))
                log(f"[{repeat}/{args.repeat}] ceiling: "
                    f"{ceilings[-1].pages_per_second:.1f} pages/s")  # fmt: skip
            order = [("fundus", NO_DATABASE)] if args.fundus else []
            order += [(crawler, database) for database in args.databases for crawler in crawlers]
            for crawler, database in order:
                run = runs.run_crawl(crawler, database, repeat, net, args, workdir, mock_pid)
                crawls.append(run)
                log(f"[{repeat}/{args.repeat}] {crawler} · {database}: "
                    f"{run.stored}/{run.expected} stored, {run.stories} stories, in "
                    f"{run.wall:.1f} s, {run.pages_per_second:.1f} pages/s, "
                    f"exit {run.returncode}")  # fmt: skip
    return crawls, ceilings


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # SIGTERM cleans up like Ctrl-C: crawl, mock server, databases


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        versions = [databases.server_version(d, args.pg_server) for d in args.databases]
    except databases.BenchmarkError as exc:
        print(f"benchmark: error: {exc}", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="newscrawl-bench-"))
    machine = report.machine_lines(REPO, versions)
    if args.fundus:
        venv = args.fundus_venv or fundus.default_venv()
        if not fundus.is_ready(venv):
            log(f"building fundus's environment in {venv} (once)")
        try:
            args.fundus_python = fundus.ensure_venv(venv, workdir / "fundus-venv.log")
        except fundus.FundusError as exc:
            print(f"benchmark: error: {exc}", file=sys.stderr)
            return 2
        machine.append(fundus.versions_line(args.fundus_python))
    started = time.monotonic()
    try:
        crawls, ceilings = benchmark(args, workdir)
    except (databases.BenchmarkError, RuntimeError) as exc:
        print(f"benchmark: error: {exc} (work folder kept: {workdir})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"benchmark: interrupted (work folder kept: {workdir})", file=sys.stderr)
        return 130
    failed = [c for c in crawls if report.is_newscrawl(c.crawler) and not c.complete]
    command = "python benchmarks/run.py " + " ".join(sys.argv[1:] if argv is None else argv)
    lines = [
        f"$ {command}",
        *machine,
        f"benchmark took {time.monotonic() - started:.0f} s; medians (min–max) of "
        f"{args.repeat} repeat(s)",
        "",
        *report.table(crawls, ceilings),
        "",
        *report.targets(crawls, ceilings),
        *report.versus(crawls),
        *report.downloads(crawls),
        f"- mock server CPU (not counted above): "
        f"{_mock_ms_per_page(crawls):.1f} ms/page, median over all crawls",
    ]
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps(
            {"machine": machine, "crawls": [asdict(c) for c in crawls],
             "ceilings": [asdict(c) for c in ceilings]}, indent=1))  # fmt: skip
    for run in failed:
        print(f"benchmark: INCOMPLETE {run.crawler} · {run.database} repeat {run.repeat}: "
              f"exit {run.returncode}, stored {run.stored} of {run.expected} "
              f"(missing {run.missing}, unexpected {run.unexpected}); logs in {workdir}",
              file=sys.stderr)  # fmt: skip
    if failed or args.keep_workdir:
        log(f"work folder kept: {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


def _mock_ms_per_page(crawls: list[CrawlRun]) -> float:
    return statistics.median(c.mock_cpu / c.expected * 1000 for c in crawls) if crawls else 0.0


if __name__ == "__main__":
    sys.exit(main())
