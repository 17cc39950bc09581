"""pytest fixtures: ``mock_network`` (module-scoped, default size) and a factory.

Use them from a test module or conftest with
``pytest_plugins = ["tests.mocknet.fixtures"]`` (root conftest) or by importing them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.mocknet.network import MockNetwork

DEFAULT_ARTICLES_PER_PORTAL = 6


@pytest.fixture(scope="module")
def mock_network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockNetwork]:
    """A started network of 4 portals x 6 regular articles (+ special cases), seed 1.

    Module-scoped: tests that crawl it share one server; call ``reset_requests()`` first
    when counting requests, and do not ``update_article`` on it (use the factory)."""
    workdir = tmp_path_factory.mktemp("mocknet")
    with MockNetwork(DEFAULT_ARTICLES_PER_PORTAL, seed=1, workdir=workdir) as net:
        yield net


@pytest.fixture
def mock_network_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., MockNetwork]]:
    """``make(articles_per_portal=..., seed=...)`` -> a started network, stopped after the test."""
    started: list[MockNetwork] = []

    def make(**kwargs: Any) -> MockNetwork:
        kwargs.setdefault("workdir", tmp_path_factory.mktemp("mocknet"))
        net = MockNetwork(**kwargs)
        net.start()
        started.append(net)
        return net

    yield make
    for net in started:
        net.stop()
