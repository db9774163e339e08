"""A backend slower than the sticker it draws with, for tests of what happens while a clip is made."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

from reactclip.engine.backends import ProgressCallback, RenderedFrames
from reactclip.engine.backends.base import StopCheck
from reactclip.engine.backends.sticker import StickerBackend
from reactclip.engine.spec import GenerationSpec


class SlowBackend:
    """A backend that takes ``delay_s`` per call and draws differently from the sticker (its
    colours inverted), as a model on a busy or slow device would: named "slow", not "sticker"."""

    name = "slow"
    variant = "slow-v1"

    def __init__(self, delay_s: float = 3.0) -> None:
        self.inner = StickerBackend()
        self.delay_s = delay_s
        self.calls: list[list[GenerationSpec]] = []

    def generate(
        self,
        specs: Sequence[GenerationSpec],
        on_progress: ProgressCallback | None = None,
        should_stop: StopCheck | None = None,
    ) -> list[RenderedFrames]:
        self.calls.append(list(specs))
        time.sleep(self.delay_s)
        rendered = self.inner.generate(specs, on_progress, should_stop)
        return [dataclasses.replace(r, frames=255 - r.frames) for r in rendered]

    def close(self) -> None:
        self.inner.close()
