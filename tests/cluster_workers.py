"""Real ``scrapy crawl ippen`` workers of the cluster tests: started, awaited, and what
they fetched and stored."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
from collections import Counter
from pathlib import Path

from sqlalchemy import create_engine, text

from newscrawl.urls import article_id
from tests.cluster_support import REDIS_SERVER
from tests.crawling import REPO_ROOT, CrawlResult, crawl_command
from tests.mocknet import MockNetwork

_worker_numbers = itertools.count()


def start_worker(
    net: MockNetwork,
    db_url: str,
    workdir: Path,
    prefix: str,
    *args: str,
    redis_url: str = REDIS_SERVER,
) -> tuple[subprocess.Popen[bytes], Path]:
    log_file = workdir / f"worker-{next(_worker_numbers)}.log"
    command = crawl_command(
        net.registry_path, db_url, workdir, log_file,
        "-s", f"NEWSCRAWL_CLUSTER_PREFIX={prefix}",
        # The mock's stories are dated 2024: a later run's window must still reach them.
        "-s", "NEWSCRAWL_INCREMENTAL_WINDOW_HOURS=200000",
        *args,
    )  # fmt: skip
    env = {**os.environ, "NEWSCRAWL_REDIS_URL": redis_url}
    with (
        log_file.with_suffix(".out").open("w") as out,
        log_file.with_suffix(".err").open("w") as err,
    ):
        # Its own process group: a SIGKILL then takes its extraction pool with it, as a
        # dying machine or an OOM kill of the whole unit would.
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=out, stderr=err, start_new_session=True
        )
    return process, log_file


def finish(process: subprocess.Popen[bytes], log_file: Path, timeout: float = 240) -> CrawlResult:
    try:
        process.wait(timeout=timeout)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    log = log_file.read_text(encoding="utf-8") if log_file.exists() else ""
    stdout, stderr = (log_file.with_suffix(s).read_text() for s in (".out", ".err"))
    return CrawlResult(process.returncode, stdout, stderr, log)


def run_workers(
    net: MockNetwork, db_url: str, workdir: Path, prefix: str, count: int, *args: str
) -> list[CrawlResult]:
    started = [start_worker(net, db_url, workdir, prefix, *args) for _ in range(count)]
    return [finish(*worker) for worker in started]


def article_fetches(net: MockNetwork) -> Counter[str]:
    """Successful GETs of article pages at the mock, per URL."""
    return Counter(
        r.url for r in net.requests() if r.method == "GET" and r.status < 500 and article_id(r.url)
    )


def served_times(net: MockNetwork) -> list[tuple[str, float]]:
    """(portal ip, time) of every request the mock served; its log records the time."""
    lines = (net.workdir / "requests.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if line.endswith("}")]
    return [(r["host"].rsplit(":", 1)[0], r["time"]) for r in records]


def row_counts(url: str) -> tuple[int, int]:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT count(*), count(DISTINCT url) FROM articles"))
        total, distinct = rows.one()
    engine.dispose()
    return total, distinct


def assert_clean(results: list[CrawlResult]) -> None:
    for result in results:
        assert result.returncode == 0, result.stderr[-2000:] + result.log[-3000:]
        assert "Traceback" not in result.log + result.stderr
