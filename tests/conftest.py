"""Shared fixtures: tiny real models built once per session, and an offline hub."""

from __future__ import annotations

import os
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
