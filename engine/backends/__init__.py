"""Backends make frames from specs; ``create_backend`` picks one from the settings.

``auto`` (the default) runs the real Wan model where CUDA and its weights are both present, and the
``sticker`` renderer otherwise, saying which and why. Heavy imports (torch, diffusers) happen only
when a Wan backend is asked for, so the sticker path starts fast.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from reactclip.engine.backends.base import (
    Backend,
    BackendError,
    BackendOutOfMemory,
    ProgressCallback,
    RenderedFrames,
    StepProgress,
)

if TYPE_CHECKING:  # engine.settings imports the executor, which imports backends
    from reactclip.engine.settings import EngineSettings

log = logging.getLogger(__name__)

__all__ = [
    "Backend",
    "BackendError",
    "BackendOutOfMemory",
    "ProgressCallback",
    "RenderedFrames",
    "StepProgress",
    "auto_choice",
    "create_backend",
]


def auto_choice(settings: EngineSettings) -> tuple[str, str]:
    """Which backend ``auto`` picks here, and why (a phrase for the log)."""
    import torch

    from reactclip.engine.backends.wan.loading import find_local_weights

    if settings.wan.device == "cpu":
        return "sticker", "the Wan device is set to cpu; auto only runs Wan on a GPU"
    if not torch.cuda.is_available():
        return "sticker", "no CUDA GPU is visible"
    if find_local_weights(settings.wan) is None:
        return "sticker", f"the weights of {settings.wan.model} are not on this machine"
    return "wan", f"CUDA and the weights of {settings.wan.model} are present"


def create_backend(settings: EngineSettings, name: str | None = None) -> Backend:
    """Build the named backend (default: the settings' choice). Raises BackendError with a message
    fit for the user when it cannot run here."""
    name = name or settings.backend
    if name == "auto":
        name, reason = auto_choice(settings)
        log.info("backend auto -> %s: %s", name, reason)
    if name == "sticker":
        from reactclip.engine.backends.sticker import StickerBackend

        return StickerBackend()
    if name == "tiny":
        from reactclip.engine.backends.wan.tiny import tiny_backend

        return tiny_backend()
    if name == "wan":
        from reactclip.engine.backends.wan.backend import WanBackend

        return WanBackend.from_settings(settings.wan)
    if name == "cost-model":
        from reactclip.engine.backends.costmodel import CostModelBackend

        return CostModelBackend(settings.cost_model.scale)
    raise BackendError(f"unknown backend {name!r}; use auto, wan, tiny, sticker or cost-model")
