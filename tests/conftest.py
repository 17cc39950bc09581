"""Shared pytest configuration: fixtures of the mock network and of both databases, and
the session's end check (``tests/leftovers.py``): no process a test started may outlive
the run."""

import signal

pytest_plugins = [
    "tests.mocknet.fixtures",
    "tests.dbs",
    "tests.query_data",  # the filled database of the `scrapy articles` tests
    "tests.leftovers",
    "tests.installed",  # newscrawl pip-installed into a fresh environment, once a session
]


def pytest_configure() -> None:
    """Ctrl-C is Ctrl-C in the tests, however the run was started.

    A shell starts a background job (``cmd &`` without job control, as cron jobs and CI
    wrappers often do) with SIGINT ignored; Python then leaves it ignored, and every
    child inherits that. The tests that send Ctrl-C to a crawl or a query would see it
    do nothing."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
