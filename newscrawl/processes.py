"""How the pipelines start their worker processes (forkserver, the workers' modules
preloaded), and why every one of them dies with the crawl, ``kill -9`` included.

Only the process design uses this module: ``NEWSCRAWL_EXTRACT_WORKERS`` above 0 or
``NEWSCRAWL_STORE_WRITER = "process"``. By default (issue 18) a crawl is one process,
extraction and the store's writer in it, and starts no fork server, resource tracker or
worker at all; ``check_process_settings`` vets those two settings before a crawl.

forkserver, not fork: forking the crawl process would copy a running reactor. But a
forkserver child starts from a fresh interpreter and imports what it runs (Scrapy,
trafilatura, SQLAlchemy, Alembic): 1.1 s of CPU for each extraction worker and for the
writer, 10 % of a 2,000-page crawl's CPU on two cores, and most of the cost of a cron
run that finds fifty new pages. Imported once in the fork server, those modules are
inherited by every child it forks.

Python 3.11's forkserver does not preload the main script either (it looks for a
``main_path`` key that ``spawn.get_preparation_data`` names ``init_main_from_path``), so
each child re-runs the ``scrapy`` script; preloading ``scrapy.cmdline`` makes that cheap.

Dying with the crawl. multiprocessing alone leaves everything running after a
``kill -9`` of the crawl (CPython 3.11, ``forkserver.py``, ``resource_tracker.py``):

* the fork server stops when its "alive" pipe reaches end-of-file, but it hands the
  pipe's write end to every child it forks, so it lives as long as any child;
* a ``ProcessPoolExecutor`` worker (extraction, the store's writer) waits on its call
  queue, a pipe whose write end it holds itself, so it never notices the crawl go;
* the resource tracker stops when every holder of its pipe is gone: the crawl and each
  fork-server child.

The children are the knot: once they exit, the fork server and the resource tracker
follow on their own. So:

1. Every child (``WatchedProcess``) watches the crawl through its parent sentinel, the
   read end of a pipe whose only write end is in the crawl process: at end-of-file it
   exits at once (``os._exit``; a transaction the writer had open is rolled back by the
   database). This also covers a crawl killed while the fork server was still starting,
   before guard 2 could learn who its parent was.
2. A thread needs the GIL, and a worker stuck in C for minutes (a regex over a hostile
   page) would not get it. So the fork server watches the crawl too, and when it goes
   (``os.getppid()`` changes: the server is re-parented) it exits; each child is forked
   with ``PR_SET_PDEATHSIG=SIGKILL``, so the kernel then kills it wherever it is. Its
   parent is the fork server's main thread, which lives as long as the server. Not
   PDEATHSIG on the fork server itself: that fires when the *thread* that started it
   exits, and the store starts it from a Twisted thread-pool thread, which may stop
   while the crawl is still closing.
3. Ctrl-C reaches the whole process group, and systemd's stop sends SIGTERM to every
   process of the unit; the crawl then shuts its pools down in order, so the fork
   server and its children ignore both signals (no worker traceback, no batch lost to a
   writer that died first). They still die with the crawl by 1 and 2. The fork server
   is started with both signals blocked (as multiprocessing starts its resource
   tracker) and unblocks them once it ignores them: a Ctrl-C while it was still
   importing would end it with a traceback.
4. A crawl killed with SIGKILL leaves its multiprocessing directory (``/tmp/pymp-*``,
   which holds the fork server's socket); the fork server removes it when it outlives
   its crawl (not when the crawl died while the server was still importing: it cannot
   tell that crawl from the process it was handed on to).

The fork server runs 2, 3 and 4 when it imports this module, its first preload.
"""

from __future__ import annotations

import atexit
import ctypes
import functools
import multiprocessing
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from multiprocessing import forkserver, resource_tracker, util
from multiprocessing.context import ForkServerContext, ForkServerProcess
from typing import Any

PRELOAD = [
    __name__,  # first: the fork server's guards start before the heavy imports
    "newscrawl.pipelines.extract",
    "newscrawl.store.writer",
    "scrapy.cmdline",
]

# How often the fork server looks whether its crawl is still there (a getppid() call).
PARENT_POLL_SECONDS = 0.5

_FORKSERVER_COMMAND = "from multiprocessing.forkserver import main;"
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_CHILD_EXIT_STATUS = 1  # nobody reads it: the crawl is gone
_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
_server: int | None = None  # the fork server's pid, in the fork server only
WRITERS = ("thread", "process")
"""``NEWSCRAWL_STORE_WRITER``'s choices (store/writer.py)."""


def check_process_settings(settings: Mapping[str, Any]) -> None:
    """ValueError (one line) for a process design the crawl cannot run: checked before the
    crawl starts, since ``from_crawler`` would fail with a traceback."""
    workers = settings.get("NEWSCRAWL_EXTRACT_WORKERS", 0)
    try:
        if int(workers) < 0:
            raise ValueError
    except (TypeError, ValueError):
        raise ValueError(
            f"NEWSCRAWL_EXTRACT_WORKERS must be 0 (in the crawl process) or a number of "
            f"worker processes, not {workers!r}"
        ) from None
    writer = settings.get("NEWSCRAWL_STORE_WRITER", "thread")
    if writer not in WRITERS:  # store/writer.py
        raise ValueError(
            f"NEWSCRAWL_STORE_WRITER must be one of {', '.join(WRITERS)}, not {writer!r}"
        )


class WatchedProcess(ForkServerProcess):
    """A fork-server child that exits as soon as the process that started it is gone."""

    def run(self) -> None:
        parent = multiprocessing.parent_process()
        if parent is not None:
            threading.Thread(
                target=_exit_at_eof, args=(parent.sentinel,), name="newscrawl-parent-watch",
                daemon=True,
            ).start()  # fmt: skip
        super().run()


class WatchedForkServerContext(ForkServerContext):
    Process = WatchedProcess


_CONTEXT = WatchedForkServerContext()


def forkserver_context() -> ForkServerContext:
    """The forkserver context of the pipelines' pools and its preload set (which counts
    only until the server starts, once per crawl process; later calls leave it as it is)."""
    _CONTEXT.set_forkserver_preload(PRELOAD)
    _start_fork_server()
    return _CONTEXT


def _start_fork_server() -> None:
    """Starts the fork server unless it runs, with the stop signals blocked in this thread
    (a child inherits the mask; the server unblocks them in ``_guard_fork_server``).

    The resource tracker first: starting it unblocks both signals in the calling thread."""
    resource_tracker.ensure_running()
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        forkserver.ensure_running()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def started_as_fork_server(argv: Sequence[str]) -> bool:
    """Whether ``argv`` (``sys.orig_argv``) is the command multiprocessing starts its fork
    server with: ``python [flags] -c 'from multiprocessing.forkserver import main; ...'``."""
    return len(argv) >= 2 and argv[-2] == "-c" and argv[-1].startswith(_FORKSERVER_COMMAND)


def _exit_at_eof(fd: int) -> None:
    """Blocks (without the GIL) until every write end of the pipe ``fd`` is closed."""
    while os.read(fd, 512):
        pass
    os._exit(_CHILD_EXIT_STATUS)


def _exit_when_reparented(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    _remove_crawl_directory(parent, wait=0)
    os._exit(0)  # the children get SIGKILL from the kernel (PR_SET_PDEATHSIG)


def _remove_crawl_directory(parent: int, wait: float) -> None:
    """Removes the crawl's multiprocessing directory (``/tmp/pymp-*``, holding the fork
    server's socket), which a crawl killed with SIGKILL could not, if the crawl is gone.

    Gone: the server has been re-parented. At the server's normal exit (its alive pipe
    closed) that may take a moment more, as a dying process closes its files before
    its children are handed on; a parent that stopped its server and lives on keeps
    its directory."""
    if _server != os.getpid():  # a child: they inherit the server's exit handlers
        return
    deadline = time.monotonic() + wait
    while os.getppid() == parent:
        if time.monotonic() >= deadline:
            return
        time.sleep(0.01)
    address = forkserver._forkserver._forkserver_address
    if isinstance(address, str) and not util.is_abstract_socket_namespace(address):
        shutil.rmtree(os.path.dirname(address), ignore_errors=True)


def _parent_death_signal() -> Callable[[int], None] | None:
    """``prctl(PR_SET_PDEATHSIG, signum)`` (Linux only): no library wraps it in 3.11."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def set_signal(signum: int) -> None:
        if prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")

    return set_signal


def _die_with_server(set_signal: Callable[[int], None]) -> None:
    """In each child, right after the fork server forked it (not in the child's own
    children, should it fork: they inherit this hook but not the server's pid)."""
    global _server
    server, _server = _server, None
    if server is None:
        return
    set_signal(signal.SIGKILL)
    if os.getppid() != server:  # the server died before the signal was armed
        os._exit(_CHILD_EXIT_STATUS)


def _guard_fork_server() -> None:
    global _server
    _server = os.getpid()
    for signum in _STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
    set_signal = _parent_death_signal()
    if set_signal is not None:
        os.register_at_fork(after_in_child=functools.partial(_die_with_server, set_signal))
    atexit.register(_remove_crawl_directory, os.getppid(), wait=1.0)
    threading.Thread(
        target=_exit_when_reparented, args=(os.getppid(),), name="newscrawl-crawl-watch",
        daemon=True,
    ).start()  # fmt: skip


if started_as_fork_server(sys.orig_argv):
    _guard_fork_server()
