"""Ctrl-C while a crawl starts: one line and exit 1 (``reason=interrupted``), not a traceback.

Scrapy installs its own SIGINT/SIGTERM handlers (stop gracefully, a second signal hurries
the stop) only once its reactor runs, one to two seconds after the command started. Until
then Python's default handler raised ``KeyboardInterrupt`` wherever the main thread was:
a traceback and exit 130, where the README promises exit 1 for Ctrl-C. ``install`` closes
that window from the moment newscrawl's code runs: ``newscrawl crawl`` installs it before
it imports Scrapy, ``scrapy crawl`` when Scrapy imports this package's commands (their
own imports, the store and the cluster, take a good part of the start-up), and the crawl
command again when its options are parsed; Scrapy's handler replaces it when the crawl is
under way.

Nothing was crawled or stored yet, so the handler leaves at once (``os._exit``): unwinding
with an exception raised at an arbitrary point of Scrapy's start-up could be caught and
logged by Twisted instead of stopping the process. What the process holds goes with it:
the crawl lock (a ``flock`` or a PostgreSQL session) and any helper process, which watches
the crawl and exits when it is gone (``newscrawl/processes.py``).

Before newscrawl's first line runs (Python's and Scrapy's own imports, ~0.4 s of
``scrapy crawl``) only the interpreter's default handler exists.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Sequence
from types import FrameType

EXIT_INTERRUPTED = 1  # the README's status for Ctrl-C (reason=interrupted)
MESSAGE = "newscrawl: interrupted during start-up; nothing was crawled"
SUMMARY = f"newscrawl summary: exit={EXIT_INTERRUPTED} reason=interrupted"


def _interrupted(_signum: int, _frame: FrameType | None) -> None:
    os.write(2, (MESSAGE + "\n").encode())
    # The summary line also goes to a log file (cron reads that), never a second line to
    # the terminal: only file handlers take it, and only once Scrapy has configured them.
    root = logging.getLogger()
    for handler in root.handlers:
        if isinstance(handler, logging.FileHandler):
            handler.handle(root.makeRecord("newscrawl", logging.ERROR, __file__, 0,
                                           SUMMARY, (), None))  # fmt: skip
            handler.flush()
    os._exit(EXIT_INTERRUPTED)


def command_name(argv: Sequence[str]) -> str | None:
    """The Scrapy command ``argv`` runs: its first argument that is no option, as
    ``scrapy.cmdline`` finds it."""
    return next((arg for arg in argv[1:] if not arg.startswith("-")), None)


def install() -> None:
    """Make Ctrl-C during start-up a clean exit, unless someone else (a debugger, Scrapy)
    already handles SIGINT."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _interrupted)
