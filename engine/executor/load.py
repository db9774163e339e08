"""Cost model, load, and what to do about it.

A job's cost is ``overhead + rate * units`` where units are steps x model pixels x model frames (in
millions), the work a diffusion call scales with. The rate starts from the settings and follows
observed timings per backend (a moving average), so the same model serves Wan on an H100 and the
sticker on a laptop. Load is what an interactive request would wait (queued interactive work, plus
the running call's remainder, or only its current step where that call will be preempted) and its own
render, over its latency budget; queued batch work does not count, because interactive requests
overtake it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from reactclip.engine.spec import GenerationSpec

SMOOTHING = 0.3
"""Weight of the newest observation in the moving average of the rate."""


def work_units(spec: GenerationSpec) -> float:
    return spec.steps * spec.model_width * spec.model_height * spec.model_frames / 1e6


class CostModel:
    """Estimated seconds for a batch on a backend, calibrated from what the backend really took."""

    def __init__(self, seconds_per_unit: float, overhead_s: float) -> None:
        self.default_rate = seconds_per_unit
        self.overhead_s = overhead_s
        self._rates: dict[str, float] = {}

    def rate(self, backend: str) -> float:
        return self._rates.get(backend, self.default_rate)

    def knows(self, backend: str) -> bool:
        """Whether ``backend`` has been timed here (before that, estimates use the settings' rate)."""
        return backend in self._rates

    def estimate(self, specs: Sequence[GenerationSpec], backend: str) -> float:
        return self.overhead_s + self.rate(backend) * sum(map(work_units, specs))

    def observe(self, specs: Sequence[GenerationSpec], backend: str, seconds: float) -> None:
        units = sum(map(work_units, specs))
        if units <= 0:
            return
        observed = max(seconds - self.overhead_s, 0.0) / units
        old = self._rates.get(backend)
        self._rates[backend] = observed if old is None else (1 - SMOOTHING) * old + SMOOTHING * observed


def load(wait_ahead_s: float, own_s: float, latency_x: float) -> float:
    """How much of an interactive request's latency budget (``latency_x`` times its own render time)
    the wait ahead of it and its own render take: 1.0 = it just makes it. Relative to the request's
    own cost, so the same setting holds on an H100 and on a slower card."""
    return (wait_ahead_s + own_s) / (latency_x * own_s) if own_s > 0 else 0.0


def degrade(
    spec: GenerationSpec, to: Literal["size", "frames"], size: tuple[int, int], frames: int
) -> GenerationSpec | None:
    """A cheaper spec (smaller frames keeping the orientation, or fewer frames), or None when the
    spec is already at or below that."""
    if to == "frames":
        return spec.replace(frames=frames) if spec.frames > frames else None
    long_side, short_side = max(size), min(size)
    if spec.width > spec.height:
        width, height = long_side, short_side
    elif spec.width < spec.height:
        width, height = short_side, long_side
    else:
        width = height = short_side
    if spec.width * spec.height <= width * height:
        return None
    return spec.replace(width=width, height=height)
