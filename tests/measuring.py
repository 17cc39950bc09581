"""A crawl's peak memory: the sum over its process tree of each process's peak RSS.

Shared by the end-to-end tests that bound memory; named so that pytest does not collect it.
"""

from __future__ import annotations

import re
import subprocess
import threading
from pathlib import Path

from tests.crawling import REPO_ROOT, CrawlResult, crawl_command


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(child) for child in task.read_text().split()]
        except OSError:
            continue
    return found


def _peak_rss(pid: int) -> int:
    """VmHWM: the most memory this process ever had resident (bytes), 0 once gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
    return int(match.group(1)) * 1024 if match else 0


class TreePeak:
    """Sum over the crawl's processes of each one's peak RSS (the kernel's high-water mark,
    read until the process ends: no spike between two looks is missed)."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(0.05):
            pending, seen = [self.root], set()
            while pending:
                pid = pending.pop()
                if pid in seen:
                    continue
                seen.add(pid)
                self.peaks[pid] = max(self.peaks.get(pid, 0), _peak_rss(pid))
                pending += _children(pid)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return sum(self.peaks.values())


def measured_crawl(
    registry: Path, db_url: str, workdir: Path, *args: str
) -> tuple[CrawlResult, int]:
    log_file = workdir / "crawl.log"
    command = crawl_command(registry, db_url, workdir, log_file, *args)
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = TreePeak(process.pid)
    try:
        stdout, stderr = process.communicate(timeout=240)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        total = peak.stop()
    log = log_file.read_text(encoding="utf-8") if log_file.exists() else ""
    return CrawlResult(process.returncode, stdout, stderr, log), total
