"""``python -m benchmarks._reaper OUT.json COMMAND...``: run COMMAND, account for all its processes.

``getrusage(RUSAGE_CHILDREN)`` only counts descendants that were *reaped* by someone who
is in turn reaped: the extraction pool's forkserver and resource tracker outlive the crawl
process for a moment, get re-parented to init, and their CPU (workers included) would
vanish from the parent's account. This wrapper makes itself the child subreaper
(``prctl(PR_SET_CHILD_SUBREAPER)``), so those orphans come back to it, reaps every one,
and writes the CPU of the whole process tree to OUT.json. Its own few milliseconds are
not in that figure (RUSAGE_CHILDREN excludes the caller).
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36
ORPHAN_GRACE_SECONDS = 30.0


def _become_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def _children() -> list[int]:
    pids: list[int] = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        pids += [int(pid) for pid in (task / "children").read_text().split()]
    return pids


def _reap_orphans() -> None:
    """Wait for every adopted orphan; kill the ones still alive after the grace period."""
    deadline = time.monotonic() + ORPHAN_GRACE_SECONDS
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            if time.monotonic() > deadline:
                for child in _children():
                    os.kill(child, signal.SIGKILL)
            time.sleep(0.02)


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: python -m benchmarks._reaper OUT.json COMMAND...", file=sys.stderr)
        return 2
    out, command = Path(argv[0]), argv[1:]
    _become_subreaper()
    # SIGTERM/SIGINT from the benchmark are passed on; the crawl shuts down in order.
    start = time.perf_counter()
    process = subprocess.Popen(command)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda sig, _frame: process.send_signal(sig))
    status = process.wait()
    wall = time.perf_counter() - start
    _reap_orphans()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = {"returncode": status, "wall": wall, "user": usage.ru_utime,
              "sys": usage.ru_stime, "maxrss_kb": usage.ru_maxrss}  # fmt: skip
    out.write_text(json.dumps(result))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
