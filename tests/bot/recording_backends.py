"""Backends for the bot tests: the real sticker renderer, recording what reaches it, and slower or
held variants of it for what happens while a clip is made."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Sequence

from reactclip.engine.backends import Backend, ProgressCallback, RenderedFrames
from reactclip.engine.backends.base import StopCheck
from reactclip.engine.backends.sticker import StickerBackend
from reactclip.engine.spec import GenerationSpec


class RecordingBackend:
    """The real sticker renderer, counting what reaches it: proof of what the engine was asked."""

    def __init__(self, inner: Backend | None = None) -> None:
        self.inner = inner or StickerBackend()
        self.name = self.inner.name
        self.variant = self.inner.variant
        self.calls: list[list[GenerationSpec]] = []

    def generate(
        self,
        specs: Sequence[GenerationSpec],
        on_progress: ProgressCallback | None = None,
        should_stop: StopCheck | None = None,
    ) -> list[RenderedFrames]:
        self.calls.append(list(specs))
        return self.inner.generate(specs, on_progress, should_stop)

    def close(self) -> None:
        self.inner.close()


class SlowBackend(RecordingBackend):
    """A backend that takes ``delay_s`` per call and draws differently from the sticker (its
    colours inverted), as a model on a busy or slow device would: named "slow", not "sticker"."""

    def __init__(self, delay_s: float = 3.0) -> None:
        super().__init__()
        self.name, self.variant = "slow", "slow-v1"
        self.delay_s = delay_s

    def generate(
        self,
        specs: Sequence[GenerationSpec],
        on_progress: ProgressCallback | None = None,
        should_stop: StopCheck | None = None,
    ) -> list[RenderedFrames]:
        time.sleep(self.delay_s)
        rendered = super().generate(specs, on_progress, should_stop)
        return [dataclasses.replace(r, frames=255 - r.frames) for r in rendered]


class BlockedBackend(RecordingBackend):
    """The sticker renderer, holding every call until ``release`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def generate(
        self,
        specs: Sequence[GenerationSpec],
        on_progress: ProgressCallback | None = None,
        should_stop: StopCheck | None = None,
    ) -> list[RenderedFrames]:
        self.entered.set()
        self.release.wait(timeout=30)
        return super().generate(specs, on_progress, should_stop)
