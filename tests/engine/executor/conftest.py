"""Fixtures for the executor tests: the Redis server the distributed executor needs, which skips
(or, in CI, fails) when no server answers, like tests/engine/cache's."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator

import pytest

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
REDIS_URL = f"redis://{REDIS_HOST}:{REDIS_PORT}/0"


def _redis_answers() -> str | None:
    """None when a Redis server answers PING, else why not."""
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1.0) as conn:
            conn.sendall(b"PING\r\n")
            reply = conn.recv(64)
    except OSError as error:
        return f"no Redis server at {REDIS_HOST}:{REDIS_PORT} ({error})"
    if not reply.startswith(b"+PONG"):
        return f"{REDIS_HOST}:{REDIS_PORT} answered {reply!r} to PING, not +PONG"
    return None


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The test Redis server's URL. Skips the test when no server answers, unless
    REACTCLIP_REQUIRE_REDIS=1 (CI sets it), where a missing server fails the test instead."""
    problem = _redis_answers()
    if problem is not None:
        if os.environ.get("REACTCLIP_REQUIRE_REDIS") == "1":
            pytest.fail(f"REACTCLIP_REQUIRE_REDIS=1 but {problem}")
        pytest.skip(f"{problem}; start redis-server (or set REACTCLIP_REQUIRE_REDIS=1 to fail instead)")
    return REDIS_URL


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
