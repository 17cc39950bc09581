"""Scrapy's robots.txt middleware, with every waiting request given the parsed rules.

Why a subclass: in Scrapy 2.19 (the newest release on PyPI) ``RobotsTxtMiddleware``
lets requests to a host go out unchecked while robots.txt is still on its way. The
first request to a host downloads robots.txt; every other one awaits the host's pending
``Deferred`` through ``maybe_deferred_to_future``. Since the move to ``async def``
(scrapy/scrapy PR #6802, "Refactor RobotsTxtMiddleware to use async def
process_request()") that awaits the ``Deferred`` itself, and Twisted's
``Deferred.asFuture`` hands the result to the first awaiter only: its callback returns
``None``, so the third and later waiters see ``None``, which means "no robots.txt,
everything allowed". Before that refactoring each waiter got a ``Deferred`` of its own
that passed the result on; this restores exactly that. Drop it when a fixed Scrapy is
released (test: ``tests/test_hostile_sources.py::test_robots_disallow_all``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

if TYPE_CHECKING:
    from scrapy.http import Request
    from scrapy.robotstxt import RobotParser


class SharedRobotsTxtMiddleware(RobotsTxtMiddleware):
    """``RobotsTxtMiddleware`` whose every request waits for, and gets, the host's rules."""

    async def robot_parser(self, request: Request) -> RobotParser | None:
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if isinstance(pending, Deferred):
            own: Deferred[RobotParser | None] = Deferred()
            pending.addBoth(_pass_on, own)
            return await maybe_deferred_to_future(own)
        return await super().robot_parser(request)


def _pass_on(result: object, own: Deferred) -> object:
    """Fire ``own`` with the host's result and hand the result on to the next waiter."""
    own.callback(result)
    return result
