"""One measured run of the benchmark: the ceiling's loop, or a crawl of the mock network.

newscrawl and the naive baseline crawl into a fresh database of their kind; fundus
writes JSON lines, as its users do. Each crawl runs under ``benchmarks._measure`` (CPU of
its whole process tree, peak RSS per process); what it stored is counted against the
mock's expected pages and stories, and the mock's request log tells how many article
pages it downloaded more than once.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import _databases as databases
from benchmarks import _fundus as fundus
from benchmarks._measure import measure, process_cpu_seconds
from benchmarks._records import NO_DATABASE, CeilingRun, CrawlRun
from benchmarks._stats import EXTENSION as STATS_EXTENSION
from newscrawl import settings as project_settings
from tests.mocknet import MockNetwork

REPO = Path(__file__).resolve().parents[1]
STORE_WRITE_SECONDS = "newscrawl/store/write_seconds"
# Politeness lifted for the mock, identical for newscrawl and the baseline.
UNTHROTTLED = {
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "CONCURRENT_REQUESTS": "64",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "64",
    "LOG_LEVEL": "INFO",
}


@dataclass(frozen=True)
class Variant:
    """newscrawl run once more in each repeat: from another checkout, or with settings."""

    name: str
    """The run's crawler name: ``newscrawl:<label>`` or ``newscrawl@<commit>``."""
    checkout: Path = REPO
    settings: dict[str, str] = field(default_factory=dict)


_LABEL = re.compile(r"[A-Za-z0-9_.-]+")


def parse_variant(text: str) -> Variant:
    """``LABEL:NAME=VALUE,NAME=VALUE`` (ValueError with one line if it is not)."""
    label, colon, pairs = text.partition(":")
    if not colon or not _LABEL.fullmatch(label):
        raise ValueError(f"{text!r} is not LABEL:NAME=VALUE,... (label: letters, digits, ._-)")
    settings = {}
    for pair in filter(None, pairs.split(",")):
        name, equals, value = pair.partition("=")
        if not equals or not name.strip():
            raise ValueError(f"{pair!r} is not NAME=VALUE")
        settings[name.strip()] = value.strip()
    return Variant(f"newscrawl:{label}", REPO, settings)


def versus_variant(checkout: Path) -> Variant:
    """Another checkout's crawl, named by its commit."""
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=checkout, capture_output=True, text=True
    ).stdout.strip()
    return Variant(f"newscrawl@{commit or checkout.name}", checkout.resolve())


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


def run_ceiling(pages: Path, workdir: Path, repeat: int) -> CeilingRun:
    out = workdir / f"ceiling-{repeat}.json"
    log_path = workdir / f"ceiling-{repeat}.log"
    command = [sys.executable, "-m", "benchmarks._ceiling", str(pages), str(out)]
    measured = measure(command, REPO, crawl_env(), log_path, timeout=3600)
    if measured.returncode != 0:
        raise databases.BenchmarkError(f"the ceiling loop failed; see {log_path}")
    result = json.loads(out.read_text())
    return CeilingRun(repeat, result["pages"], result["extracted"], result["wall"],
                             result["cpu"])  # fmt: skip


def crawl_env(checkout: Path = REPO) -> dict[str, str]:
    path = os.pathsep.join([str(checkout), *filter(None, [os.environ.get("PYTHONPATH")])])
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
) -> CrawlRun:  # fmt: skip
    name = f"{crawler}-{database}-{repeat}".replace(NO_DATABASE, "none")
    run_dir = workdir / re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    run_dir.mkdir()
    net.reset_requests()  # the mock's request log would otherwise grow over all runs
    variant = next((v for v in args.variants if v.name == crawler), None)
    mine = crawler == "newscrawl" or variant is not None
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
            command += _settings_args(variant.settings) if variant else []
        checkout = variant.checkout if variant else REPO
        env = fundus.peer_env() if crawler == "fundus" else crawl_env(checkout)
        mock_before = process_cpu_seconds(mock_pid) if mock_pid else 0.0
        timeout = max(900.0, args.articles * 0.5)
        measured = measure(command, checkout, env, run_dir / "output.log", timeout)
        mock_cpu = (process_cpu_seconds(mock_pid) if mock_pid else 0.0) - mock_before
        if crawler == "fundus":
            stored = fundus.stored_urls(_lines(articles))
        else:
            stored = databases.stored_urls(db_url, "articles" if mine else "baseline_articles")
    stats = _read_stats(run_dir / "stats.json")
    write_seconds = stats.get(STORE_WRITE_SECONDS if mine else "baseline/write_seconds")
    downloads = fundus.article_downloads(r.url for r in net.requests() if r.status == 200)
    expected, peaks = net.expected_urls, measured.peaks
    return CrawlRun(
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


def mock_pid() -> int | None:
    """The mock server process (our child): its CPU is reported beside, not in, the crawl's."""
    for tid in os.listdir(f"/proc/{os.getpid()}/task"):
        for pid in Path(f"/proc/{os.getpid()}/task/{tid}/children").read_text().split():
            if b"tests.mocknet" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return int(pid)
    return None
