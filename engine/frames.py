"""Frame post-processing: from what the model made to what the user asked for.

Wan renders 4k+1 frames at sides in multiples of 32; a spec may ask for 8-16 frames at any size in
multiples of 16. We pick evenly spaced frames (dropping the tail, so the loop point stays clean) and
centre-crop.
"""

from __future__ import annotations

import numpy as np

from reactclip.engine.spec import GenerationSpec


def to_uint8(frames: np.ndarray) -> np.ndarray:
    """Float frames in [0, 1] (diffusers' ``output_type="np"``) to uint8."""
    if frames.dtype == np.uint8:
        return frames
    return (np.clip(frames, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def frame_indices(available: int, wanted: int) -> np.ndarray:
    """``wanted`` evenly spaced indices into ``available`` frames, starting at 0 and never reaching
    past ``available - 1``: 17 -> 16 drops the last frame; 13 -> 10 drops every fourth or so."""
    if not 0 < wanted <= available:
        raise ValueError(f"cannot take {wanted} frames from {available}")
    return (np.arange(wanted) * available // wanted).astype(np.int64)


def center_crop(frames: np.ndarray, height: int, width: int) -> np.ndarray:
    _, h, w, _ = frames.shape
    if height > h or width > w:
        raise ValueError(f"cannot crop {w}x{h} frames to {width}x{height}")
    top, left = (h - height) // 2, (w - width) // 2
    return frames[:, top : top + height, left : left + width]


def fit_to_spec(frames: np.ndarray, spec: GenerationSpec) -> np.ndarray:
    """Model output (F, H, W, 3) to exactly (spec.frames, spec.height, spec.width, 3) uint8."""
    picked = to_uint8(frames)[frame_indices(frames.shape[0], spec.frames)]
    return np.ascontiguousarray(center_crop(picked, spec.height, spec.width))
