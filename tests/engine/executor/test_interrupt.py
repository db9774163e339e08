"""The backends' side of preemption: each stops between steps once ``should_stop`` says so, raises
Interrupted instead of making frames, and works normally on the next call."""

from __future__ import annotations

import pytest

from reactclip.engine.backends.base import Interrupted, StepProgress
from reactclip.engine.backends.sticker import StickerBackend
from reactclip.engine.backends.wan import WanBackend
from reactclip.engine.spec import GenerationSpec


def test_the_sticker_stops_between_frames_when_asked() -> None:
    backend = StickerBackend()
    specs = [GenerationSpec(prompt=p, width=128, height=128, frames=8) for p in ("a", "b")]
    events: list[StepProgress] = []
    with pytest.raises(Interrupted) as stopped:
        backend.generate(specs, events.append, should_stop=lambda: len(events) >= 3)
    assert (stopped.value.step, stopped.value.total) == (3, 8)
    assert [e.step for e in events] == [1, 2, 3]


def test_the_sticker_is_not_stopped_after_its_last_frame() -> None:
    spec = GenerationSpec(prompt="a", width=128, height=128, frames=8)
    [result] = StickerBackend().generate([spec], should_stop=lambda: False)
    assert result.frames.shape == (8, 128, 128, 3)
    events: list[StepProgress] = []
    [result] = StickerBackend().generate([spec], events.append, should_stop=lambda: len(events) >= 8)
    assert result.frames.shape == (8, 128, 128, 3)


@pytest.mark.slow
def test_tiny_wan_stops_after_the_step_where_should_stop_turns_true_without_decoding(
    tiny_backend: WanBackend,
) -> None:
    spec = GenerationSpec(prompt="a cat", width=160, height=128, frames=8, steps=5)
    events: list[StepProgress] = []
    with pytest.raises(Interrupted) as stopped:
        tiny_backend.generate([spec], events.append, should_stop=lambda: len(events) >= 2)
    assert [(e.stage, e.step, e.total) for e in events] == [("denoising", 1, 5), ("denoising", 2, 5)]
    assert (stopped.value.step, stopped.value.total) == (2, 5)

    # The next call starts from scratch and runs every step.
    events.clear()
    [result] = tiny_backend.generate([spec], events.append, should_stop=lambda: False)
    assert len(events) == 5 and result.frames.shape == (8, 128, 160, 3)
