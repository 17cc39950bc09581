"""The live status line on a terminal: rich's ``Live``, with Scrapy's log printed above it."""

from __future__ import annotations

import atexit
import io
import logging
import sys
import threading
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.text import Text
from scrapy.utils.log import get_scrapy_root_handler


class LiveLine:
    """The status line at the bottom of the terminal (rich ``Live``), with Scrapy's log
    printed above it: its root handler writes to the live console while the line shows."""

    def __init__(self, live: Any, handler: logging.StreamHandler[Any] | None, stream: Any) -> None:
        self.live = live
        self.handler = handler
        self.previous_stream = stream

    @property
    def carries_log(self) -> bool:
        return self.handler is not None

    @classmethod
    def start(cls) -> LiveLine | None:
        """Start on an interactive terminal; None elsewhere (or a dumb terminal)."""
        console = Console(file=sys.stderr)
        if not console.is_interactive:
            return None
        live = Live(console=console, auto_refresh=False, transient=True,
                    redirect_stdout=False, redirect_stderr=True)  # fmt: skip
        live.start()
        # Keep the cursor: a crawl killed with -9 must not leave the terminal without one.
        console.show_cursor(True)
        handler, stream = get_scrapy_root_handler(), None
        if _writes_to(handler, console.file):
            stream = handler.setStream(_ConsoleStream(console))  # type: ignore[union-attr]
        else:
            handler = None
        line = cls(live, handler, stream)  # type: ignore[arg-type]
        atexit.register(line.stop)  # a second Ctrl-C stops the reactor without spider_closed
        return line

    def show(self, text: str) -> None:
        self.live.update(Text(text, no_wrap=True, overflow="ellipsis"), refresh=True)

    def stop(self) -> None:
        if self.live.is_started:
            self.live.stop()
        if self.handler is not None:
            self.handler.setStream(self.previous_stream)
            self.handler = None


def _writes_to(handler: logging.Handler | None, terminal: Any) -> bool:
    """Is ``handler`` Scrapy's stream handler on the terminal the live line is drawn on?"""
    if not isinstance(handler, logging.StreamHandler) or isinstance(handler, logging.FileHandler):
        return False
    try:
        return handler.stream.fileno() == terminal.fileno()
    except (AttributeError, OSError, ValueError):
        return False


class _ConsoleStream(io.TextIOBase):
    """A text stream printing whole lines through the live console, above the live line.

    Not rich's own ``FileProxy``: that wraps long lines at the terminal's width with hard
    line breaks, and a URL broken in two cannot be copied; here the terminal wraps them.
    """

    def __init__(self, console: Any) -> None:
        super().__init__()
        self._console = console
        self._buffer = ""
        self._lock = threading.Lock()  # the store's and extract's threads log too

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self._lock:
            self._buffer += text
            if "\n" in self._buffer:
                lines, _, self._buffer = self._buffer.rpartition("\n")
                self._console.print(Text(lines), soft_wrap=True, highlight=False)
        return len(text)
