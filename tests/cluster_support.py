"""Redis fixtures of the cluster tests: a key prefix of their own on the machine's Redis.

Unreachable Redis skips those tests locally and fails them in CI, as for PostgreSQL.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import redis

REDIS_SERVER = os.environ.get("NEWSCRAWL_TEST_REDIS", "redis://127.0.0.1:6379/0")


def delete_prefix(client: redis.Redis, prefix: str) -> None:
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_SERVER)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        message = f"Redis at {REDIS_SERVER} is unreachable: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Redis is required in CI: {message}")
        pytest.skip(message)
    yield client
    client.close()


@pytest.fixture
def cluster_prefix(redis_client: redis.Redis) -> Iterator[str]:
    """A fresh key prefix; every key under it is deleted after the test."""
    prefix = f"newscrawl-test-{uuid.uuid4().hex[:10]}"
    yield prefix
    delete_prefix(redis_client, prefix)
