"""Ctrl-C while a crawl starts: one line, exit 1 (the README's status for Ctrl-C), no
traceback, no process left; through ``scrapy crawl ippen`` and ``newscrawl crawl``.

The signal is sent at points the test can see rather than at times (on a loaded machine
a fixed delay lands anywhere): as soon as the log has its first line (Scrapy has
configured logging, so newscrawl's start-up handler is in place and Scrapy's is not yet), and at
fixed delays after that, which land in the start-up or in the crawl under way. Every
point has the same outcome, which is what the test asserts.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from newscrawl.commands.startup import MESSAGE
from tests.crawling import REPO_ROOT, crawl_command
from tests.faultkit import wait_until
from tests.mocknet import MockNetwork
from tests.proctree import Proc, descendants, snapshot, wait_gone


def _command(form: str, registry: Path, database: str, workdir: Path, log: Path) -> list[str]:
    command = crawl_command(registry, database, workdir, log)
    if form == "newscrawl":  # the same settings through ``newscrawl crawl``
        return [sys.executable, "-m", "newscrawl.cli", "crawl", *command[3:]]
    return command


@pytest.mark.parametrize(
    ("form", "delay"),
    [("scrapy", 0.0), ("scrapy", 0.5), ("scrapy", 1.5), ("newscrawl", 0.0)],
)
def test_ctrl_c_during_start_up_is_one_line_and_exit_1(
    mock_network: MockNetwork, tmp_path: Path, form: str, delay: float
) -> None:
    log = tmp_path / "crawl.log"
    # A delay between requests keeps the crawl from finishing before the signal: the mock
    # is crawled in half a second on a quiet machine, and the signal must find it running.
    database = f"sqlite:///{tmp_path}/news.db"
    command = [*_command(form, mock_network.registry_path, database, tmp_path, log),
               "-s", "DOWNLOAD_DELAY=2"]  # fmt: skip
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
    seen: dict[tuple[int, int], Proc] = {}
    try:
        wait_until(lambda: log.exists() and log.stat().st_size > 0, "the crawl's first log line")
        end = time.monotonic() + delay
        while time.monotonic() < end:  # everything the crawl starts, to check it went
            seen.update({p.key: p for p in descendants(snapshot(), process.pid)})
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    text = log.read_text(encoding="utf-8")
    assert process.returncode == 1, stderr + text[-3000:]
    assert "Traceback" not in stderr + text
    # Our handler says so on stderr; Scrapy's (the crawl was under way) only in the log.
    assert stderr in (MESSAGE + "\n", ""), stderr
    summaries = [line for line in text.splitlines() if "newscrawl summary: " in line]
    assert len(summaries) == 1 and summaries[0].endswith(" exit=1 reason=interrupted")
    assert wait_gone(seen.values(), timeout=10) == []
