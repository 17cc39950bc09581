"""Measure one command: wall time, CPU of its whole process tree, peak RSS per role.

The command runs under :mod:`benchmarks._reaper` (CPU of every descendant, workers and
the pool's helpers included, see there). Memory comes from sampling ``VmHWM`` (the
kernel's own peak-RSS high-water mark) of every process in the tree each 100 ms, so a
short spike between two samples is still seen; only a process younger than 100 ms could
be missed, and none of the crawl's processes live that briefly.

The whole tree's peak is the sum of every process's own peak, as issue 18's target names
it: an upper bound, since the peaks need not coincide and the pages a forked worker
shares with its parent count in both.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

SAMPLE_SECONDS = 0.1
FORKSERVER = "multiprocessing.forkserver"


@dataclass
class ProcessPeaks:
    """Peak RSS (bytes) per process, by role in the crawl's process tree."""

    main_pid: int | None = None
    main: int = 0
    workers: dict[int, int] = field(default_factory=dict)
    helpers: dict[int, int] = field(default_factory=dict)
    """Forkserver, resource tracker: small, reported only in the JSON output."""
    cpu: dict[int, float] = field(default_factory=dict)
    """CPU seconds per process as last sampled: which process is the bottleneck (the
    reaper's figure is the exact total; these miss at most the last 100 ms of each)."""
    roles: dict[int, str] = field(default_factory=dict)

    def cpu_of(self, role: str) -> float:
        return sum(cpu for pid, cpu in self.cpu.items() if self.roles.get(pid) == role)

    @property
    def tree(self) -> int:
        """Sum of the peak RSS of every process the command ran (the reaper excluded)."""
        return self.main + sum(self.workers.values()) + sum(self.helpers.values())

    @property
    def processes(self) -> int:
        return (self.main_pid is not None) + len(self.workers) + len(self.helpers)


@dataclass
class Measured:
    returncode: int
    wall_seconds: float
    cpu_seconds: float
    peaks: ProcessPeaks


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            return file.read()
    except OSError:  # the process ended between listing and reading
        return None


def _children(pid: int) -> list[int]:
    pids: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return pids
    for tid in tasks:
        pids += [int(p) for p in (_read(f"/proc/{pid}/task/{tid}/children") or "").split()]
    return pids


def _hwm_bytes(pid: int) -> int | None:
    status = _read(f"/proc/{pid}/status")
    for line in (status or "").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return None


class TreeSampler(threading.Thread):
    """Samples the process tree under ``root`` (the reaper) until stopped."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.peaks = ProcessPeaks()
        self._roles = self.peaks.roles
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.sample()
            self._stop_event.wait(SAMPLE_SECONDS)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()

    def sample(self) -> None:
        stack = [(child, self.root) for child in _children(self.root)]
        while stack:
            pid, parent = stack.pop()
            role = self._roles.get(pid)
            if role in (None, "helper"):
                # A helper is looked at again: caught between fork() and exec(), the
                # forkserver still shows the crawl's command line.
                role = self._roles[pid] = self._role(pid, parent)
                if role != "helper":
                    self.peaks.helpers.pop(pid, None)
            hwm = _hwm_bytes(pid)
            if hwm is not None:
                self._record(pid, role, hwm)
            cpu = process_cpu_seconds(pid)
            if cpu:
                self.peaks.cpu[pid] = cpu
            stack += [(child, pid) for child in _children(pid)]

    def _role(self, pid: int, parent: int) -> str:
        # Main and worker are fixed at first sight: once the crawl process exits, its helpers
        # are re-parented to the reaper and would otherwise look like a second main process.
        if self._roles.get(parent) == "forkserver":
            return "worker"
        cmdline = (_read(f"/proc/{pid}/cmdline") or "").replace("\0", " ")
        if FORKSERVER in cmdline:
            return "forkserver"
        if parent == self.root and self.peaks.main_pid is None:
            self.peaks.main_pid = pid
            return "main"
        return "helper"

    def _record(self, pid: int, role: str, hwm: int) -> None:
        # The latest VmHWM, not the largest seen: it only grows within one program, and
        # exec() starts it afresh. A child seen between fork() and exec() shows its
        # parent's pages (shared, not its own) and would otherwise keep that peak.
        peaks = self.peaks
        if role == "main":
            peaks.main = hwm
        elif role == "worker":
            peaks.workers[pid] = hwm
        else:
            peaks.helpers[pid] = hwm


def measure(
    command: list[str], cwd: Path, env: dict[str, str], log: Path, timeout: float
) -> Measured:
    """Run ``command`` to its end; its stdout and stderr go to ``log``."""
    usage_file = log.with_suffix(".rusage.json")
    usage_file.unlink(missing_ok=True)
    wrapped = [sys.executable, "-m", "benchmarks._reaper", str(usage_file), *command]
    with log.open("wb") as out:
        process = subprocess.Popen(wrapped, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        sampler = TreeSampler(process.pid)
        sampler.start()
        try:
            process.wait(timeout=timeout)
        except BaseException:  # timeout, Ctrl-C, SIGTERM: the reaper stops the crawl in order
            process.terminate()
            process.wait()
            raise
        finally:
            sampler.stop()
    usage = json.loads(usage_file.read_text())
    # The wall time of the command itself, taken by the reaper: not our own startup.
    return Measured(usage["returncode"], usage["wall"], usage["user"] + usage["sys"], sampler.peaks)


def process_cpu_seconds(pid: int) -> float:
    """CPU (user+sys) a live process has used so far: for the mock server's share."""
    fields = (_read(f"/proc/{pid}/stat") or "").rsplit(")", 1)[-1].split()
    if len(fields) < 13:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
