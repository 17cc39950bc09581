"""What newscrawl's log says, and what it must never say.

Two Scrapy extension points: a LogFormatter, so a dropped page is one line with its URL
rather than the whole item, and an extension that installs the crawl's log rules:

* database passwords are redacted from every log record (Scrapy prints the overridden
  settings at start, so ``-s NEWSCRAWL_DATABASE_URL=postgresql://u:secret@h/db`` would
  otherwise end up in every log file);
* an unreachable host is one line, not a traceback (Scrapy's robots.txt middleware logs
  a failed download with its traceback; a cron job that meets a portal down, or a
  machine without DNS, would fill its log with them). Every other error keeps its own.

Why a log record factory and not a filter on Scrapy's log handler: Scrapy replaces its
root handler after the extensions are built (``Crawler.crawl_async`` reinstalls it), so
a handler's filters covered only the first lines of a crawl.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import exceptions
from scrapy.crawler import Crawler
from scrapy.logformatter import LogFormatter, LogFormatterResult
from twisted.internet import error

# Here for the log rules and the crawl's errors; it lives beside the URL parsing so that the
# read-only commands (which must not import Scrapy) mask passwords the same way.
from newscrawl.store.engine import redact

# Scrapy's download errors (its RETRY_EXCEPTIONS): the host or the network failed, and
# the message already says how; a traceback through the downloader adds nothing.
_NETWORK_ERRORS = (
    exceptions.CannotResolveHostError, exceptions.DownloadConnectionRefusedError,
    exceptions.DownloadFailedError, exceptions.DownloadTimeoutError,
    exceptions.ResponseDataLossError, error.ConnectError, error.ConnectionLost,
    error.ConnectionDone, error.TimeoutError,
)  # fmt: skip


class _RedactedRecord(logging.LogRecord):
    def getMessage(self) -> str:
        return redact(super().getMessage())


class _RulesFactory:
    """The log record factory that was in place, with the rules applied to its records.

    Redaction happens when a record is formatted, not when it is made: most records
    (each page's DEBUG lines, the scraped item's whole text among them) are dropped by
    the handler's level unformatted.
    """

    def __init__(self, previous: Any) -> None:
        self.previous = previous

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        return follow_log_rules(self.previous(*args, **kwargs))


def follow_log_rules(record: logging.LogRecord) -> logging.LogRecord:
    """The rules applied to one record: also for those a worker process made and sends
    back to be logged here, which never pass this process's record factory."""
    if type(record) is logging.LogRecord:
        record.__class__ = _RedactedRecord
    if record.exc_info and isinstance(record.exc_info[1], _NETWORK_ERRORS):
        record.exc_info = None
    return record


def install_log_rules() -> None:
    """Idempotent: every record created from now on, by any logger, follows the rules."""
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _RulesFactory):
        logging.setLogRecordFactory(_RulesFactory(factory))


class LogRules:
    """Extension: installs the log rules (passwords redacted, network errors on one line).

    Extensions are built before Scrapy logs the overridden settings, so the rules are in
    place for that first message too.
    """

    def __init__(self) -> None:
        install_log_rules()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LogRules:
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
