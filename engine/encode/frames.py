"""Checks and reshapes for the frames the encoders take: uint8 RGB arrays of shape (n, h, w, 3)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from reactclip.engine.encode.errors import EncodeError


def check_frames(frames: object) -> np.ndarray:
    """Return ``frames`` if it is a non-empty uint8 (n, h, w, 3) array with even sides, else raise
    EncodeError naming the first problem (H.264's yuv420p halves both sides, so odd sides fail)."""
    if not isinstance(frames, np.ndarray):
        raise EncodeError(f"frames must be a numpy array, not {type(frames).__name__}")
    if frames.dtype != np.uint8:
        raise EncodeError(f"frames must be uint8 RGB (0-255), not {frames.dtype}")
    if frames.ndim != 4 or frames.shape[3] != 3:
        raise EncodeError(f"frames must have shape (frames, height, width, 3), not {frames.shape}")
    count, height, width, _ = frames.shape
    if count == 0:
        raise EncodeError("there are zero frames to encode")
    if height < 2 or width < 2 or height % 2 or width % 2:
        raise EncodeError(f"width and height must be even and at least 2, not {width}x{height}")
    return frames


def drop_frames(frames: np.ndarray, fps: float, step: int) -> tuple[np.ndarray, float]:
    """Keep every ``step``-th frame and divide the rate by ``step``, so the duration stays about the
    same (exactly when the count divides by ``step``)."""
    if step <= 1:
        return frames, fps
    return frames[::step], fps / step


def downscale(frames: np.ndarray, scale: float) -> np.ndarray:
    """Resize every frame by ``scale`` to the nearest even size (area-averaging, which keeps thin
    lines and text readable where nearest-neighbour would drop them)."""
    if scale >= 1:
        return frames
    count, height, width, _ = frames.shape
    size = (even_side(width * scale), even_side(height * scale))
    resized = [np.asarray(Image.fromarray(frame).resize(size, Image.Resampling.BOX)) for frame in frames]
    return np.stack(resized) if count else frames


def even_side(side: float) -> int:
    """The nearest even whole number to ``side``, at least 2."""
    return max(2, round(side / 2) * 2)
