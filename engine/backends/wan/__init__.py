"""Wan2.2 through diffusers: the real model, and a tiny random-weight build of it for tests."""

from reactclip.engine.backends.wan.backend import WanBackend
from reactclip.engine.backends.wan.tiny import build_tiny_wan_pipeline, tiny_backend

__all__ = ["WanBackend", "build_tiny_wan_pipeline", "tiny_backend"]
