"""Model frames are trimmed or resampled to what was asked, and centre-cropped."""

from __future__ import annotations

import numpy as np
import pytest

from reactclip.engine.frames import fit_to_spec, frame_indices, to_uint8
from reactclip.engine.spec import GenerationSpec


def test_seventeen_model_frames_become_sixteen_by_dropping_the_last() -> None:
    assert frame_indices(17, 16).tolist() == list(range(16))


def test_resampling_is_even_and_starts_at_the_first_frame() -> None:
    picked = frame_indices(13, 10)
    assert picked[0] == 0 and picked[-1] <= 12
    assert np.all(np.diff(picked) >= 1) and np.all(np.diff(picked) <= 2)
    with pytest.raises(ValueError):
        frame_indices(9, 10)


def test_fit_to_spec_crops_the_centre_and_converts_to_uint8() -> None:
    spec = GenerationSpec(prompt="x", width=320, height=240, frames=8)
    frames = np.zeros((9, 256, 320, 3), np.float32)
    frames[:, 8:248] = 1.0  # the 240 centre rows are white, the 8-row bands top and bottom black
    frames[8] = 0.5  # the ninth frame must be dropped
    out = fit_to_spec(frames, spec)
    assert out.shape == (8, 240, 320, 3) and out.dtype == np.uint8
    assert out.min() == 255


def test_to_uint8_clips_and_rounds() -> None:
    assert to_uint8(np.array([-0.5, 0.0, 0.5, 1.0, 2.0])).tolist() == [0, 0, 128, 255, 255]
