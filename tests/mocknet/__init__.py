"""A local mock of the Ippen Digital network for crawl tests and benchmarks.

See :class:`MockNetwork` (start/stop, expected URLs, request log, updates) and
:class:`~tests.mocknet.spec.NetworkSpec` / :class:`~tests.mocknet.specials.Specials` (what is
where). ``python -m tests.mocknet --help`` serves it by hand.
"""

from tests.mocknet.network import MockNetwork, ServedRequest
from tests.mocknet.spec import ArticleMeta, NetworkSpec
from tests.mocknet.specials import Specials

__all__ = ["ArticleMeta", "MockNetwork", "NetworkSpec", "ServedRequest", "Specials"]
