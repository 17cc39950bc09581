"""Why a request failed, as a stats key, and whether the spider still has to log it.

Pure: a table of Scrapy's and Twisted's failures (tested in tests/test_guards.py).
Whether to log keeps every failure to one line in the log: Scrapy's own components
already log some of them (the download handler a body past DOWNLOAD_MAXSIZE,
HttpCompressionMiddleware a decompression bomb, RetryMiddleware the last retry of a
timeout or connection error, newscrawl's registry guard an outside origin).
"""

from __future__ import annotations

from typing import NamedTuple

from scrapy import exceptions
from scrapy.exceptions import DownloadCancelledError, DownloadTimeoutError, IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as twisted_errors

# Scrapy's RETRY_EXCEPTIONS: RetryMiddleware logs the last attempt ("Gave up retrying").
_RETRIED = (
    exceptions.CannotResolveHostError, exceptions.DownloadConnectionRefusedError,
    exceptions.DownloadFailedError, exceptions.ResponseDataLossError,
    twisted_errors.ConnectionDone, twisted_errors.ConnectError, twisted_errors.ConnectionLost,
)  # fmt: skip


class Failed(NamedTuple):
    reason: str
    """Stats key suffix: ``http_404``, ``robots``, ``too_large``, ``timeout``, ..."""
    log: bool
    """True when nothing else logged it yet."""


def classify(error: BaseException) -> Failed:
    if isinstance(error, HttpError):
        return Failed(f"http_{error.response.status}", True)
    if isinstance(error, IgnoreRequest):
        message = str(error)
        if "robots.txt" in message:
            return Failed("robots", False)  # routine: a Disallow'd link; Scrapy counts it
        if "outside the registry" in message:
            return Failed("offsite", False)  # the registry guard logged the origin
        if "DOWNLOAD_MAXSIZE" in message:
            return Failed("too_large", False)  # HttpCompressionMiddleware logged it
        if "max redirections" in message:
            return Failed("redirect_loop", True)  # RedirectMiddleware says so at DEBUG only
        # Any other component that drops a request (the cluster's throttle when Redis is
        # gone) has said why; a line per page would flood the log.
        return Failed("ignored", False)
    if isinstance(error, DownloadCancelledError):
        return Failed("too_large", False)  # the download handler logged size and limit
    if isinstance(error, DownloadTimeoutError | twisted_errors.TimeoutError):
        return Failed("timeout", False)  # RetryMiddleware logged giving up
    return Failed(type(error).__name__, not isinstance(error, _RETRIED))
