"""StickerBackend: the Backend that draws clips on the CPU with no model.

It is what the service falls back to without a GPU and what the demo shows, so it must be fast,
deterministic for a seed, and good enough to post.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from reactclip.engine.backends.base import (
    Interrupted,
    ProgressCallback,
    RenderedFrames,
    StepProgress,
    StopCheck,
)
from reactclip.engine.backends.sticker.renderer import render_clip
from reactclip.engine.clip import StageTimings
from reactclip.engine.spec import GenerationSpec


class StickerBackend:
    """Renders each spec independently, so a batch need not share a ``batch_key``."""

    name = "sticker"
    variant = "sticker-v1"
    """The renderer's version; bump it whenever the pixels for a spec change (it keys the cache)."""

    def generate(
        self,
        specs: Sequence[GenerationSpec],
        on_progress: ProgressCallback | None = None,
        should_stop: StopCheck | None = None,
    ) -> list[RenderedFrames]:
        """Render spec after spec; ``should_stop`` is polled between frames (a step is a frame)."""
        results = []
        for number, spec in enumerate(specs):
            last = number == len(specs) - 1

            def report(index: int, total: int = spec.frames, last: bool = last) -> None:
                if on_progress is not None:
                    on_progress(StepProgress(stage="rendering", step=index + 1, total=total))
                if should_stop is not None and not (last and index + 1 == total) and should_stop():
                    raise Interrupted(index + 1, total)

            start = time.perf_counter()
            frames = render_clip(spec, on_frame=report)
            results.append(
                RenderedFrames(frames=frames, timings=StageTimings(rendering=time.perf_counter() - start))
            )
        return results

    def close(self) -> None:
        """Nothing to release: no model, no device memory."""
