"""The cluster's Redis client settings, and what redis-py raises when Redis is gone.

Apart from ``config.py`` so that only a cluster worker imports redis-py.
"""

from __future__ import annotations

from typing import Any

import redis

from newscrawl.cluster.config import ClusterUnavailable, one_line
from newscrawl.logs import redact

# Socket timeouts well below scrapy-redis's 30 s default: a Redis that went away
# mid-run must stop the worker in seconds, not after a half-minute hang per call.
REDIS_PARAMS: dict[str, Any] = {
    "socket_timeout": 5,
    "socket_connect_timeout": 5,
    "retry_on_timeout": True,
    "health_check_interval": 30,
}

# Everything redis-py raises when the server cannot be reached or went away.
REDIS_DOWN = (redis.ConnectionError, redis.TimeoutError)


def connect(url: str) -> redis.Redis:
    """A client that has answered a PING, or ClusterUnavailable."""
    client = redis.Redis.from_url(url, **REDIS_PARAMS)
    try:
        client.ping()
    except REDIS_DOWN as exc:
        message = f"Redis at {redact(url)} is unreachable: {one_line(exc)}"
        raise ClusterUnavailable(message) from None
    return client
