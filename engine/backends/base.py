"""The one small interface between the engine and anything that makes frames.

A backend turns a batch of GenerationSpecs into frames and reports progress per step. It knows
nothing of queues, Discord or caching; the executor (and, for now, ClipMaker) owns those. It may also
stop between steps when asked (``should_stop``), so that urgent work need not wait for a long batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from reactclip.engine.clip import StageTimings
from reactclip.engine.spec import GenerationSpec


class BackendError(RuntimeError):
    """A backend cannot run here (no CUDA, no weights) or failed while running; the message is
    written for the person who asked, without a traceback."""


@dataclass(frozen=True)
class StepProgress:
    """One step of work on a batch: ``step`` of ``total`` in ``stage`` (denoising or rendering)."""

    stage: str
    step: int
    total: int


ProgressCallback = Callable[[StepProgress], None]
StopCheck = Callable[[], bool]
"""Polled by a backend between steps; True asks it to stop and raise Interrupted."""


class Interrupted(Exception):
    """The backend stopped between steps because ``should_stop`` said so, and made no frames.

    Not a BackendError: nothing went wrong, so it counts as no failure and triggers no retry. The
    specs can be run again, from the start."""

    def __init__(self, step: int, total: int) -> None:
        self.step = step
        self.total = total
        super().__init__(f"stopped after step {step} of {total}")


@dataclass
class RenderedFrames:
    """Frames for one spec: uint8 RGB of shape (spec.frames, spec.height, spec.width, 3)."""

    frames: np.ndarray
    timings: StageTimings = field(default_factory=StageTimings)
    peak_gpu_memory_bytes: int | None = None


class Backend(Protocol):
    """Anything that can render a batch of specs."""

    name: str
    """Which backend ran (wan, tiny, sticker): reported on every Clip."""

    variant: str
    """Which model variant ran (a model id or path, or the renderer's version)."""

    def generate(
        self,
        specs: Sequence[GenerationSpec],
        on_progress: ProgressCallback | None = None,
        should_stop: StopCheck | None = None,
    ) -> list[RenderedFrames]:
        """Render every spec of a compatible batch (equal ``batch_key``), in order.

        ``should_stop``, when given, is polled between steps (never after the last); once it returns
        True a backend that can stop raises Interrupted. One that cannot may ignore it and finish."""
        ...

    def close(self) -> None:
        """Release models and device memory."""
        ...


def check_batch(specs: Sequence[GenerationSpec]) -> None:
    """Raise ValueError unless the specs can share one call (same size, frames, steps, guidance)."""
    if not specs:
        raise ValueError("a batch needs at least one spec")
    keys = {spec.batch_key() for spec in specs}
    if len(keys) > 1:
        raise ValueError(
            f"specs in one batch must share size, frames, steps and guidance; got {sorted(keys)}"
        )


class BackendOutOfMemory(BackendError):
    """The device ran out of memory; a smaller batch may fit."""
