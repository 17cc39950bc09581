"""The crawl benchmark: newscrawl against the naive baseline and trafilatura's ceiling.

    python benchmarks/run.py [--articles 2000] [--repeat 3] [--databases sqlite,postgresql]

Starts the mock network (``tests.mocknet``, served by its own process, so serving is not
counted) with N article pages over its four portals, then per repeat measures:

* ``scrapy crawl ippen`` (the users' command, politeness lifted for the mock, every page
  fetched: not incremental) into a fresh database of each kind;
* the naive baseline (``benchmarks/baseline_spider.py``) on the same pages and database;
* the ceiling: ``trafilatura.extract`` alone on the same pages, one process;
* with ``--fundus``: fundus 0.5.7 (``benchmarks/fundus_peer.py``, in an environment of its
  own that ``benchmarks/_fundus.py`` builds on first use) on the same mock, once a repeat.

Each crawl runs under ``benchmarks._reaper``: CPU of its whole process tree, workers
included; peak RSS per process (and summed over the tree) sampled from /proc. Prints the
machine, one table of medians (min–max) and the issues' targets. Exits 1 when a newscrawl
run did not store exactly the mock's expected pages, 2 on bad arguments, an unreachable
database or a fundus environment that cannot be built.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
# Run as a script (python benchmarks/run.py), the repository root is not on sys.path.
sys.path.insert(0, str(REPO))

from benchmarks import _databases as databases  # noqa: E402
from benchmarks import _fundus as fundus  # noqa: E402
from benchmarks import _report as report  # noqa: E402
from benchmarks._measure import measure, process_cpu_seconds  # noqa: E402
from benchmarks._stats import EXTENSION as STATS_EXTENSION  # noqa: E402
from newscrawl import settings as project_settings  # noqa: E402
from tests.mocknet import MockNetwork  # noqa: E402
from tests.mocknet.spec import PORTALS  # noqa: E402

STORE_WRITE_SECONDS = "newscrawl/store/write_seconds"
# Politeness lifted for the mock, identical for newscrawl and the baseline.
UNTHROTTLED = {
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "CONCURRENT_REQUESTS": "64",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "64",
    "LOG_LEVEL": "INFO",
}


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
    parser.add_argument("--pg-server", default=databases.DEFAULT_PG_SERVER)
    parser.add_argument("--json", type=Path, help="also write every measurement here")
    parser.add_argument("--keep-workdir", action="store_true", help="keep logs and databases")
    args = parser.parse_args(argv)
    if not 20 <= args.articles <= 50_000:
        parser.error("--articles must be between 20 and 50000")
    if args.repeat < 1 or args.ceiling_pages < 1:
        parser.error("--repeat and --ceiling-pages must be at least 1")
    args.databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    unknown = sorted(set(args.databases) - set(databases.KINDS))
    if unknown or not args.databases:
        parser.error(
            f"--databases: unknown {', '.join(unknown) or '(none)'}; use sqlite,postgresql"
        )
    return args


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the pieces of one repeat ------------------------------------------------------------
def fetch_pages(urls: list[str], limit: int, into: Path) -> None:
    """An even sample of ``limit`` pages saved decoded, as a trafilatura user holds them."""
    step = max(1, len(urls) // limit)
    sample = urls[::step][:limit]
    into.mkdir(parents=True, exist_ok=True)

    def fetch(numbered: tuple[int, str]) -> None:
        number, url = numbered
        with urllib.request.urlopen(url, timeout=60) as response:
            charset = response.headers.get_content_charset() or "utf-8"
            html = response.read().decode(charset, errors="replace")
        (into / f"{number:06d}.html").write_text(html, encoding="utf-8")

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(fetch, enumerate(sample)))


def run_ceiling(pages: Path, workdir: Path, repeat: int) -> report.CeilingRun:
    out = workdir / f"ceiling-{repeat}.json"
    log_path = workdir / f"ceiling-{repeat}.log"
    command = [sys.executable, "-m", "benchmarks._ceiling", str(pages), str(out)]
    measured = measure(command, REPO, _env(), log_path, timeout=3600)
    if measured.returncode != 0:
        raise databases.BenchmarkError(f"the ceiling loop failed; see {log_path}")
    result = json.loads(out.read_text())
    return report.CeilingRun(repeat, result["pages"], result["extracted"], result["wall"],
                             result["cpu"])  # fmt: skip


def _env() -> dict[str, str]:
    path = os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])
    return {**os.environ, "PYTHONPATH": path}


def _settings_args(settings: dict[str, str]) -> list[str]:
    return [arg for name, value in settings.items() for arg in ("-s", f"{name}={value}")]


def newscrawl_command(registry: Path, db_url: str, run_dir: Path) -> list[str]:
    """``scrapy crawl ippen`` as users run it, plus the stats dump."""
    settings = {
        **UNTHROTTLED,
        "NEWSCRAWL_SITES": str(registry),
        "NEWSCRAWL_DATABASE_URL": db_url,
        "NEWSCRAWL_INCREMENTAL": "False",
        "NEWSCRAWL_DEADLETTER_PATH": str(run_dir / "deadletter.jsonl"),
        "EXTENSIONS": json.dumps({**project_settings.EXTENSIONS, STATS_EXTENSION: 0}),
        "BENCHMARK_STATS_FILE": str(run_dir / "stats.json"),
        "LOG_FILE": str(run_dir / "crawl.log"),
    }
    scrapy = Path(sys.executable).parent / "scrapy"
    return [str(scrapy), "crawl", "ippen", *_settings_args(settings)]


def baseline_command(registry: Path, db_url: str, run_dir: Path) -> list[str]:
    settings = {**UNTHROTTLED, "LOG_FILE": str(run_dir / "crawl.log")}
    return [
        sys.executable, "-m", "benchmarks.baseline_spider", "--registry", str(registry),
        "--database-url", db_url, "--stats-file", str(run_dir / "stats.json"),
        *_settings_args(settings),
    ]  # fmt: skip


def run_crawl(
    crawler: str, database: str, repeat: int, net: MockNetwork, args: argparse.Namespace,
    workdir: Path, mock_pid: int | None,
) -> report.CrawlRun:  # fmt: skip
    run_dir = workdir / f"{crawler}-{database}-{repeat}".replace(report.NO_DATABASE, "none")
    run_dir.mkdir()
    net.reset_requests()  # the mock's request log would otherwise grow over all runs
    mine = crawler == "newscrawl"
    target = (
        contextlib.nullcontext("") if crawler == "fundus"
        else databases.fresh_database(database, workdir, args.pg_server)
    )  # fmt: skip
    with target as db_url:
        if crawler == "fundus":
            articles = run_dir / "articles.jsonl"
            command = fundus.peer_command(args.fundus_python, net.registry_path, articles)
        else:
            build = newscrawl_command if mine else baseline_command
            command = build(net.registry_path, db_url, run_dir)
        env = fundus.peer_env() if crawler == "fundus" else _env()
        mock_before = process_cpu_seconds(mock_pid) if mock_pid else 0.0
        timeout = max(900.0, args.articles * 0.5)
        measured = measure(command, REPO, env, run_dir / "output.log", timeout)
        mock_cpu = (process_cpu_seconds(mock_pid) if mock_pid else 0.0) - mock_before
        if crawler == "fundus":
            stored = fundus.stored_urls(_lines(articles))
        else:
            stored = databases.stored_urls(db_url, "articles" if mine else "baseline_articles")
    stats = _read_stats(run_dir / "stats.json")
    write_seconds = stats.get(STORE_WRITE_SECONDS if mine else "baseline/write_seconds")
    downloads = fundus.article_downloads(r.url for r in net.requests() if r.status == 200)
    expected, peaks = net.expected_urls, measured.peaks
    return report.CrawlRun(
        crawler=crawler, database=database, repeat=repeat, returncode=measured.returncode,
        expected=len(expected), stored=len(stored), missing=len(expected - set(stored)),
        unexpected=sum(1 for url in stored if url not in expected) + len(stored)
        - len(set(stored)), wall=measured.wall_seconds, cpu=measured.cpu_seconds,
        main_rss=peaks.main, worker_rss=max(peaks.workers.values(), default=0),
        write_seconds=write_seconds, mock_cpu=mock_cpu, helpers_rss=peaks.helpers,
        main_cpu=peaks.cpu_of("main"), tree_rss=peaks.tree,
        processes=peaks.processes,
        stories=fundus.stories_found(stored, net.expected_article_ids),
        article_downloads=downloads[0], distinct_article_downloads=downloads[1],
    )  # fmt: skip


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except OSError:  # the peer died before it wrote anything
        return []


def _read_stats(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):  # the crawl died before its engine stopped
        return {}


def _mock_pid() -> int | None:
    """The mock server process (our child): its CPU is reported beside, not in, the crawl's."""
    for tid in os.listdir(f"/proc/{os.getpid()}/task"):
        for pid in Path(f"/proc/{os.getpid()}/task/{tid}/children").read_text().split():
            if b"tests.mocknet" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return int(pid)
    return None


# --- the whole benchmark -----------------------------------------------------------------
def benchmark(args: argparse.Namespace, workdir: Path) -> tuple[list[Any], list[Any]]:
    crawls: list[report.CrawlRun] = []
    ceilings: list[report.CeilingRun] = []
    per_portal = max(5, math.ceil(args.articles / len(PORTALS)))
    crawlers = ["newscrawl"] if args.only_newscrawl else ["newscrawl", "baseline"]
    with MockNetwork(per_portal, seed=1, workdir=workdir / "mocknet") as net:
        log(f"mock network: {per_portal} articles × {len(PORTALS)} portals; "
            f"{len(net.expected_urls)} pages to store")  # fmt: skip
        mock_pid = _mock_pid()
        pages = workdir / "pages"
        if not args.only_newscrawl:
            fetch_pages(sorted(net.expected_urls), args.ceiling_pages, pages)
        for repeat in range(1, args.repeat + 1):
            if not args.only_newscrawl:
                ceilings.append(run_ceiling(pages, workdir, repeat))
                log(f"[{repeat}/{args.repeat}] ceiling: "
                    f"{ceilings[-1].pages_per_second:.1f} pages/s")  # fmt: skip
            runs = [("fundus", report.NO_DATABASE)] if args.fundus else []
            runs += [(crawler, database) for database in args.databases for crawler in crawlers]
            for crawler, database in runs:
                run = run_crawl(crawler, database, repeat, net, args, workdir, mock_pid)
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
    if args.fundus:
        venv = args.fundus_venv or fundus.default_venv()
        if not fundus.is_ready(venv):
            log(f"building fundus's environment in {venv} (once)")
        try:
            args.fundus_python = fundus.ensure_venv(venv, workdir / "fundus-venv.log")
        except fundus.FundusError as exc:
            print(f"benchmark: error: {exc}", file=sys.stderr)
            return 2
    started = time.monotonic()
    try:
        crawls, ceilings = benchmark(args, workdir)
    except (databases.BenchmarkError, RuntimeError) as exc:
        print(f"benchmark: error: {exc} (work folder kept: {workdir})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"benchmark: interrupted (work folder kept: {workdir})", file=sys.stderr)
        return 130
    failed = [c for c in crawls if c.crawler == "newscrawl" and not c.complete]
    command = "python benchmarks/run.py " + " ".join(sys.argv[1:] if argv is None else argv)
    lines = [
        f"$ {command}",
        *report.machine_lines(REPO, versions),
        f"benchmark took {time.monotonic() - started:.0f} s; medians (min–max) of "
        f"{args.repeat} repeat(s)",
        "",
        *report.table(crawls, ceilings),
        "",
        *report.targets(crawls, ceilings),
        *report.downloads(crawls),
        f"- mock server CPU (not counted above): "
        f"{_mock_ms_per_page(crawls):.1f} ms/page, median over all crawls",
    ]
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps(
            {"machine": lines[1:5], "crawls": [asdict(c) for c in crawls],
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


def _mock_ms_per_page(crawls: list[report.CrawlRun]) -> float:
    return statistics.median(c.mock_cpu / c.expected * 1000 for c in crawls) if crawls else 0.0


if __name__ == "__main__":
    sys.exit(main())
