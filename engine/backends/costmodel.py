"""A backend that takes a GPU's time without a GPU: sticker frames, delivered after the time the
field report's GPU took (one clip 3 s, a batch of four 9 s: 1 s a call plus 2 s a clip), scaled.

What it is for: benchmarks of scheduling and scale-out (bench/executor.py, bench/scale.py) and fault
drills with real ``reactclip worker`` processes (``--backend cost-model``), where the sticker
renderer is too fast for a job to be caught mid-flight and Wan needs a GPU. Never a product backend:
``auto`` never picks it.
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
    check_batch,
)
from reactclip.engine.backends.sticker import render_clip
from reactclip.engine.clip import StageTimings
from reactclip.engine.executor.load import work_units
from reactclip.engine.spec import GenerationSpec

CALL_OVERHEAD_S = 1.0
PER_CLIP_S = 2.0
REFERENCE_SPEC = GenerationSpec(prompt="reference")
"""What the field report timed (832x480, 16 frames, 20 steps); other sizes cost their share."""
REFERENCE_UNITS = work_units(REFERENCE_SPEC)


class CostModelBackend:
    """``scale`` x (1 s + 2 s per reference-sized clip) per call, one sleep per denoising step so
    progress flows as from a diffusion model; it stops between steps when asked, like Wan. The
    frames are real sticker frames drawn once at a small size, so the encoder costs little."""

    name = "cost-model"
    variant = "cost-model-v1"

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale
        self.frames = render_clip(GenerationSpec(prompt="cost model", width=128, height=128, frames=8, fps=8))

    def cost(self, specs: Sequence[GenerationSpec]) -> float:
        clips = sum(work_units(spec) for spec in specs) / REFERENCE_UNITS
        return self.scale * (CALL_OVERHEAD_S + PER_CLIP_S * clips)

    def generate(
        self,
        specs: Sequence[GenerationSpec],
        on_progress: ProgressCallback | None = None,
        should_stop: StopCheck | None = None,
    ) -> list[RenderedFrames]:
        check_batch(specs)
        start = time.monotonic()
        total, steps = self.cost(specs), specs[0].steps
        # Sleeps to absolute deadlines, so the call takes cost() however the sleeps round.
        for step in range(steps):
            time.sleep(max(start + total * (step + 1) / steps - time.monotonic(), 0.0))
            if on_progress is not None:
                on_progress(StepProgress(stage="denoising", step=step + 1, total=steps))
            if should_stop is not None and step + 1 < steps and should_stop():
                raise Interrupted(step + 1, steps)
        elapsed = time.monotonic() - start
        return [RenderedFrames(self.frames, StageTimings(denoising=elapsed)) for _ in specs]

    def close(self) -> None:
        """Nothing to release."""
