"""The ``Store``'s ``write_batch`` calls: in the calling thread (``WriterThread``, the
default) or in a process of their own (``WriterProcess``); ``make_writer`` picks.

``Store.write`` already runs in a thread of Twisted's pool, so the reactor never waits
for the database either way; the question is only whose GIL the writer shares.

A process of its own (the design until issue 18) waits only for the database and the
operating system's scheduler: a writer thread competes with the reactor for the GIL, and
sqlite3 and psycopg release it around every statement, so each time it waited up to the
switch interval to get it back (3.6 s of wall time in the writer for 1.4 s of its CPU
at N = 2,000, SQLite, measured with the extraction workers as processes too). But the
process is an interpreter of its own, with SQLAlchemy and the crawl's modules imported
(about 90 MB of RSS, and with it the fork server, 95 MB, and the resource tracker), and
every batch is pickled to it and its result back. Measured side by side once extraction
had moved into the crawl process (issue 18: ``benchmarks/run.py --variant``, N = 2,000,
SQLite, 3 interleaved repeats), the thread took 0.82x the CPU per page and 0.50x the
tree's peak RSS at 1.52x the pages/s, so it is the default;
``NEWSCRAWL_STORE_WRITER = "process"`` keeps the process.

The process keeps one engine for the crawl. What it logs is sent back with each result
and logged here, under the original logger names and times, so the crawl's log (and its
password redaction) sees every line. Errors come back as one line and a flag saying
whether the database was unreachable (worth a retry) or refused the batch; the thread
raises the same two exceptions.
"""

from __future__ import annotations

import logging
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Engine

from newscrawl.logs import follow_log_rules
from newscrawl.processes import WRITERS, forkserver_context
from newscrawl.store.engine import make_engine
from newscrawl.store.errors import StoreRefused, StoreUnavailable, is_outage, one_line
from newscrawl.store.write import BatchResult, write_batch


@dataclass
class _Written:
    result: BatchResult | None
    error: str | None = None
    outage: bool = False
    records: list[logging.LogRecord] = field(default_factory=list)


class _Collect(logging.Handler):
    """Keeps the worker's log records, made picklable, until they go back with a result."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        record.msg, record.args = record.getMessage(), None
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        self.records.append(record)

    def take(self) -> list[logging.LogRecord]:
        records, self.records = self.records, []
        return records


_engine: Engine | None = None
_log = _Collect()


def _start(url: str, level: int) -> None:
    """Worker initializer: its own engine; Ctrl-C is the crawl process's to handle."""
    global _engine
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _engine = make_engine(url)
    root = logging.getLogger()
    root.handlers = [_log]
    root.setLevel(level)


def _ready() -> None:
    """Nothing: returns once the worker has run its initializer."""


def _write(batch: list[dict[str, Any]], pages: list[dict[str, Any]]) -> _Written:
    assert _engine is not None, "the writer process was not started"
    try:
        result = write_batch(_engine, batch, pages, index_search=False)
    except Exception as exc:  # anything: the crawl process decides what it means
        return _Written(None, one_line(exc), is_outage(exc), _log.take())
    return _Written(result, records=_log.take())


class WriterProcess:
    def __init__(self, engine: Engine, level: int) -> None:
        # The URL with its password goes to the worker through the pool's pipe, never a log.
        self._url = engine.url.render_as_string(hide_password=False)
        self._level = level
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> None:
        """Start the worker (a second or two of imports) before the first batch needs it;
        blocks (call it from a thread)."""
        self._started().submit(_ready).result()

    def _started(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                1, mp_context=forkserver_context(), initializer=_start,
                initargs=(self._url, self._level),
            )  # fmt: skip
        return self._pool

    def write(self, batch: list[dict[str, Any]], pages: list[dict[str, Any]]) -> BatchResult:
        """``write_batch`` in the worker; blocks (call it from a thread).

        Raises ``StoreUnavailable`` (database unreachable, worker died: retry) or
        ``StoreRefused``.
        """
        pool = self._started()
        try:
            written = pool.submit(_write, batch, pages).result()
        except BrokenProcessPool as exc:
            pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
            raise StoreUnavailable("the writer process died") from exc
        for record in written.records:
            logging.getLogger(record.name).handle(follow_log_rules(record))
        if written.result is not None:
            return written.result
        raise (StoreUnavailable if written.outage else StoreRefused)(written.error)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


class WriterThread:
    """``write_batch`` in the calling thread, on the ``Store``'s own engine: no process,
    no pickling, nothing to start or to outlive the crawl."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def start(self) -> None:
        """Nothing to start: the engine connects on the first batch."""

    def write(self, batch: list[dict[str, Any]], pages: list[dict[str, Any]]) -> BatchResult:
        """``write_batch`` here; blocks (call it from a thread). Raises ``StoreUnavailable``
        (database unreachable: retry) or ``StoreRefused``, as ``WriterProcess`` does."""
        try:
            return write_batch(self._engine, batch, pages, index_search=False)
        except Exception as exc:
            raise (StoreUnavailable if is_outage(exc) else StoreRefused)(one_line(exc)) from exc

    def close(self) -> None:
        """Nothing to stop: the ``Store`` disposes of its engine."""


class Writer(Protocol):
    """What the ``Store`` needs of a writer, whichever it is."""

    def start(self) -> None: ...
    def write(self, batch: list[dict[str, Any]], pages: list[dict[str, Any]]) -> BatchResult: ...
    def close(self) -> None: ...


def make_writer(kind: str, engine: Engine, level: int) -> Writer:
    """The writer ``NEWSCRAWL_STORE_WRITER`` names; ValueError for any other name."""
    if kind == "thread":
        return WriterThread(engine)
    if kind == "process":
        return WriterProcess(engine, level)
    raise ValueError(f"NEWSCRAWL_STORE_WRITER must be one of {', '.join(WRITERS)}, not {kind!r}")
