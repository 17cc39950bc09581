"""Shared pytest configuration: fixtures of the mock network and of both databases."""

pytest_plugins = ["tests.mocknet.fixtures", "tests.dbs"]
