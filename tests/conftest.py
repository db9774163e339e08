"""Shared fixtures: tiny real models built once per session, and an offline hub."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

# No test may reach a model hub: these machines have no network, and a test that passes only
# online is not a test. Set before anything imports huggingface_hub.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"


@pytest.fixture(scope="session")
def tiny_wan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny random-weight Wan pipeline saved in the diffusers folder layout, so the real
    ``from_pretrained`` loading code can be exercised without any download."""
    from reactclip.engine.backends.wan.tiny import build_tiny_wan_pipeline

    path = tmp_path_factory.mktemp("tiny-wan")
    build_tiny_wan_pipeline().save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_backend() -> Iterator[object]:
    from reactclip.engine.backends.wan.tiny import tiny_backend as build

    backend = build()
    yield backend
    backend.close()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No REACTCLIP_ variables and no config file from the developer's machine leak into a test."""
    for name in list(os.environ):
        if name.startswith("REACTCLIP_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


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
