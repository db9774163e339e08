"""Fixtures for the executor tests: Redis names of each test's own (the server fixture, which skips
or in CI fails when no server answers, is in tests/conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest


@pytest.fixture
def redis_token(redis_url: str) -> Iterator[str]:
    """A token of this test's own for every Redis name it uses (queue, key prefix, job ids); every
    key containing it is deleted afterwards."""
    import redis

    token = f"reactclip-test-{uuid.uuid4().hex}"
    yield token
    client = redis.Redis.from_url(redis_url)
    try:
        names = list(client.scan_iter(match=f"*{token}*", count=1000))
        if names:
            client.delete(*names)
        aborted = [name for name in client.zrange("arq:abort", 0, -1) if token.encode() in name]
        if aborted:
            client.zrem("arq:abort", *aborted)
    finally:
        client.close()
