"""Fixtures for the clip cache: a small real Clip, and a Redis store that skips (or, in CI, fails)
when no server answers."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from reactclip.engine.clip import Clip, StageTimings
from reactclip.engine.spec import GenerationSpec

FAKE_MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4


def make_clip(data: bytes = FAKE_MP4, **spec_fields: object) -> Clip:
    """A Clip with every field set away from its default, so a lost field shows in a comparison."""
    spec = GenerationSpec(**({"prompt": "a happy cat", "seed": 7} | spec_fields))
    return Clip(
        data=data,
        format=spec.format,
        frames=spec.frames,
        width=spec.width,
        height=spec.height,
        fps=spec.fps,
        spec=spec,
        backend="tiny",
        variant="tiny-wan",
        timings=StageTimings(denoising=1.5, encoding=0.25),
        encode_notes=["fps lowered to 10 to fit 8 MB"],
        peak_gpu_memory_bytes=123456,
        degraded=True,
        inspection={"labels": ["FACE_FEMALE"], "scores": [0.91]},
    )


@pytest.fixture
def clip_factory() -> Callable[..., Clip]:
    return make_clip


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own; every key under it is deleted afterwards."""
    import redis

    prefix = f"reactclip-test:{uuid.uuid4().hex}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        names = list(client.scan_iter(match=prefix + "*", count=1000))
        if names:
            client.delete(*names)
    finally:
        client.close()
