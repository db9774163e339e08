"""Progress events a request's handle reports, in this order: Queued (maybe several, as the
position changes), Started, Step..., Decoding, Done. A batch-class request that interactive work
preempts goes back to Queued after some Steps, then starts again from step 1. A failed or cancelled
request's stream just ends; its result raises."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Queued:
    position: int
    """0 = next to run."""
    degraded: bool = False
    wait_s: float | None = None
    """Expected seconds until the clip is ready, from the executor's cost model (the work ahead
    of it and its own); None while the backend's speed is unknown."""


@dataclass(frozen=True)
class Started:
    backend: str
    """The backend chain entry running it: a variant name or a fallback name."""
    batch_size: int


@dataclass(frozen=True)
class Step:
    stage: str
    """denoising (diffusion) or rendering (the sticker)."""
    step: int
    total: int


@dataclass(frozen=True)
class Decoding:
    """The last step is done; frames are being decoded and encoded."""


@dataclass(frozen=True)
class Done:
    cache_hit: bool = False


ProgressEvent = Queued | Started | Step | Decoding | Done
EventCallback = Callable[[ProgressEvent], None]
