"""What newscrawl's log says, and what it must never say.

Two Scrapy extension points: a LogFormatter, so a dropped page is one line
with its URL rather than the whole item, and an extension that redacts
database passwords from every log record (Scrapy prints the overridden
settings at start, so ``-s NEWSCRAWL_DATABASE_URL=postgresql://u:secret@h/db``
would otherwise end up in every log file).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from scrapy.crawler import Crawler
from scrapy.logformatter import LogFormatter, LogFormatterResult
from scrapy.utils.log import get_scrapy_root_handler

_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^:/@\s'\"]*:)[^@/\s'\"]+(?=@)", re.I)


def redact(text: str) -> str:
    """``postgresql://user:secret@host/db`` → ``postgresql://user:***@host/db``."""
    return _URL_PASSWORD.sub(r"\g<head>***", text)


class _RedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


class RedactSecrets:
    """Extension: keeps URL passwords out of the log.

    Extensions are built before Scrapy logs the overridden settings, so the
    filter is in place for that first message too.
    """

    def __init__(self) -> None:
        handler = get_scrapy_root_handler()
        targets = [handler] if handler else logging.root.handlers
        for target in targets:
            if not any(isinstance(f, _RedactFilter) for f in target.filters):
                target.addFilter(_RedactFilter())

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedactSecrets:
        return cls()


class NewscrawlLogFormatter(LogFormatter):
    """Dropped items are logged as their reason and URL, not their whole content."""

    def dropped(
        self, item: Any, exception: BaseException, response: Any, spider: Any
    ) -> LogFormatterResult:
        result = super().dropped(item, exception, response, spider)
        result["msg"] = "Dropped: %(exception)s"
        result["args"] = {"exception": exception}
        return result
