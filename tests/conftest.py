"""Shared pytest configuration: fixtures of the mock network and of both databases, and
the session's end check (``tests/leftovers.py``): no process a test started may outlive
the run."""

pytest_plugins = [
    "tests.mocknet.fixtures",
    "tests.dbs",
    "tests.leftovers",
    "tests.installed",  # newscrawl pip-installed into a fresh environment, once a session
]
