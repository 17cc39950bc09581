"""Processes as Linux's /proc shows them: who started whom, who is still alive.

For the tests that kill a crawl and for the test session's end check (conftest.py).
A process is known by its pid *and* its start time, so a pid the kernel hands out
again is never taken for the process that had it before. Named so that pytest does
not collect it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    state: str  # "R", "S", ... "Z" (exited, not yet reaped)
    nice: int
    start: int  # clock ticks after boot: with the pid, the process's identity
    cpu: int  # clock ticks of CPU used so far (user + system)
    cmdline: str

    @property
    def key(self) -> tuple[int, int]:
        return self.pid, self.start

    def __str__(self) -> str:
        return f"{self.pid} (parent {self.ppid}): {self.cmdline[:160]}"


def parse_stat(text: str) -> tuple[int, int, str, int, int, int]:
    """(pid, ppid, state, nice, start, cpu) of a ``/proc/<pid>/stat`` line (proc(5)).

    The command name (field 2) sits in parentheses and may itself hold spaces and
    parentheses, so the fields after it are counted from its last ``)``: field n of
    proc(5) is ``fields[n - 3]``."""
    head, _, tail = text.rpartition(")")
    fields = tail.split()
    pid, ppid, state = int(head.split("(", 1)[0]), int(fields[1]), fields[0]
    return pid, ppid, state, int(fields[16]), int(fields[19]), int(fields[11]) + int(fields[12])


def parse_cmdline(raw: bytes) -> str:
    return raw.rstrip(b"\0").replace(b"\0", b" ").decode("utf-8", "replace")


def read_proc(pid: int) -> Proc | None:
    """The process ``pid``, or None if it is gone (or went while being read)."""
    try:
        stat = (PROC / str(pid) / "stat").read_text(encoding="utf-8", errors="replace")
        cmdline = (PROC / str(pid) / "cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return Proc(*parse_stat(stat), parse_cmdline(cmdline))


def snapshot() -> dict[int, Proc]:
    """Every process of the machine (this pid namespace), by pid."""
    procs = (read_proc(int(entry.name)) for entry in PROC.iterdir() if entry.name.isdigit())
    return {proc.pid: proc for proc in procs if proc is not None}


def descendants(procs: Mapping[int, Proc], root: int) -> list[Proc]:
    """The processes below ``root`` (children, their children, ...), not ``root`` itself."""
    children: dict[int, list[Proc]] = {}
    for proc in procs.values():
        children.setdefault(proc.ppid, []).append(proc)
    found: list[Proc] = []
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child.pid)
    return found


def living(procs: Iterable[Proc]) -> list[Proc]:
    """Those of ``procs`` still running now: same pid and start time, not a zombie."""
    alive = []
    for proc in procs:
        now = read_proc(proc.pid)
        if now is not None and now.start == proc.start and now.state != "Z":
            alive.append(now)
    return alive


def wait_gone(procs: Iterable[Proc], timeout: float) -> list[Proc]:
    """Waits up to ``timeout`` seconds for all of ``procs`` to exit; returns those left."""
    procs = list(procs)
    deadline = time.monotonic() + timeout
    while (left := living(procs)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


FORK_SERVER = "-c from multiprocessing.forkserver import main;"
# Crawl settings for the process design: two extraction workers and a writer process
# (the default crawl starts none of them; tests of how they die with the crawl need them).
WORKER_PROCESSES = ("-s", "NEWSCRAWL_EXTRACT_WORKERS=2", "-s", "NEWSCRAWL_STORE_WRITER=process")
RESOURCE_TRACKER = "-c from multiprocessing.resource_tracker import main;"


@dataclass(frozen=True)
class CrawlTree:
    """What a crawl process has started, at one moment."""

    crawl: Proc
    procs: tuple[Proc, ...]  # every descendant

    @property
    def fork_server(self) -> Proc | None:
        return self._child_running(FORK_SERVER)

    @property
    def resource_tracker(self) -> Proc | None:
        return self._child_running(RESOURCE_TRACKER)

    @property
    def writers(self) -> list[Proc]:
        """Fork-server children at the crawl's priority: the store's writer."""
        return [p for p in self.forked if p.nice == self.crawl.nice]

    @property
    def extractors(self) -> list[Proc]:
        """Fork-server children niced below the crawl: extraction workers
        (``NEWSCRAWL_EXTRACT_NICENESS``, 10 by default)."""
        return [p for p in self.forked if p.nice > self.crawl.nice]

    def _child_running(self, command: str) -> Proc | None:
        found = [p for p in self.procs if p.ppid == self.crawl.pid and command in p.cmdline]
        return found[0] if found else None

    @property
    def forked(self) -> list[Proc]:
        """The fork server's children."""
        server = self.fork_server
        return [p for p in self.procs if server is not None and p.ppid == server.pid]


def crawl_tree(pid: int) -> CrawlTree | None:
    """The tree below the running process ``pid``, or None once it has exited."""
    procs = snapshot()
    crawl = procs.get(pid)
    if crawl is None or crawl.state == "Z":
        return None
    return CrawlTree(crawl, tuple(descendants(procs, pid)))
