"""pytest plugin: a test session fails if any process it started outlives it.

Each process the session starts carries ``NEWSCRAWL_TEST_SESSION=<token>`` in its
environment (set when the session starts, inherited by every subprocess, ``scrapy
crawl``, mock network, multiprocessing's fork server and its children), so a leftover
is found even once it has been re-parented to init; the session's descendants are
counted too, for a child started with an environment of its own. Processes of other
sessions on the machine carry another token or none and are never counted.

At the end the session stops its own fork server (pools of in-process tests), waits a
few seconds for what is still exiting (a killed crawl's helpers need a moment), then
names what is left, kills it (so that one failed run does not burden the next) and
sets a failing exit status.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import uuid
from multiprocessing import forkserver, resource_tracker

import pytest

from tests.proctree import PROC, Proc, descendants, living, read_proc, snapshot, wait_gone

SESSION_MARK = "NEWSCRAWL_TEST_SESSION"
# How long leftovers get to exit on their own (the crawl's helpers need < 1 s).
GRACE_SECONDS = 15.0

_TOKEN = pytest.StashKey[str]()


def has_mark(environ: bytes, token: str) -> bool:
    """Whether a ``/proc/<pid>/environ`` blob holds this session's mark."""
    return f"{SESSION_MARK}={token}".encode() in environ.split(b"\0")


def marked(token: str) -> list[Proc]:
    """The processes whose environment carries ``token``."""
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):  # gone, or not ours to read
            if has_mark((entry / "environ").read_bytes(), token):
                found.append(read_proc(int(entry.name)))
    return [proc for proc in found if proc is not None]


def session_processes(token: str) -> list[Proc]:
    """Every living process of this session but the session's own process and its
    resource tracker (which must outlive the last semaphore finalizer run at exit;
    it exits when the session does, once the holders of its pipe are gone)."""
    own = {os.getpid(), resource_tracker._resource_tracker._pid}
    procs = {p.key: p for p in descendants(snapshot(), os.getpid())}
    procs.update((p.key, p) for p in marked(token))
    return [p for p in living(procs.values()) if p.pid not in own]


def stop_own_fork_server() -> None:
    """Closes this process's end of its fork server's alive pipe: the server then exits
    as soon as its children have (``ForkServer._stop`` does this and then blocks in
    ``waitpid``, which would hang on a leaked child)."""
    server = forkserver._forkserver
    if server._forkserver_alive_fd is not None:
        os.close(server._forkserver_alive_fd)
        server._forkserver_alive_fd = None
        server._forkserver_pid = None


def leftovers(token: str, grace: float = GRACE_SECONDS) -> list[Proc]:
    stop_own_fork_server()
    return wait_gone(session_processes(token), grace)


def report(procs: list[Proc]) -> str:
    lines = [f"the test session left {len(procs)} process(es) behind (now killed):"]
    return "\n".join([*lines, *(f"  {proc}" for proc in procs)])


def kill(procs: list[Proc]) -> None:
    for proc in living(procs):
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--leftover-grace", type=float, default=GRACE_SECONDS, metavar="SECONDS",
        help="how long processes of the session get to exit at its end before they fail it",
    )  # fmt: skip


def pytest_sessionstart(session: pytest.Session) -> None:
    token = uuid.uuid4().hex
    session.config.stash[_TOKEN] = token
    os.environ[SESSION_MARK] = token


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    left = leftovers(session.config.stash[_TOKEN], session.config.getoption("leftover_grace"))
    if not left:
        return
    kill(left)
    message = report(left)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_sep("=", "processes left behind", red=True)
        reporter.write_line(message, red=True)
    else:
        print(message, file=sys.stderr)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
