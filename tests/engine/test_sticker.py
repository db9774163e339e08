"""The sticker backend: right shape, mood-specific, deterministic, seamless, captioned and fast."""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pytest

from reactclip.engine.backends.base import StepProgress
from reactclip.engine.backends.sticker import StickerBackend, render_clip
from reactclip.engine.backends.sticker.caption import caption_text
from reactclip.engine.backends.sticker.layout import layout_for
from reactclip.engine.backends.sticker.renderer import build_scene, render_frame
from reactclip.engine.mood import Intensity, Mood
from reactclip.engine.spec import SIZE_PRESETS, GenerationSpec

SMALL = {"width": 256, "height": 256, "frames": 12}


def spec(**changes: object) -> GenerationSpec:
    fields: dict[str, object] = {"prompt": "my cat knocked the tree over", "seed": 5, **SMALL}
    fields.update(changes)
    return GenerationSpec(**fields)


@functools.cache
def clip(s: GenerationSpec) -> np.ndarray:
    """Frames as int16, so differences do not wrap; cached because several tests share clips."""
    return render_clip(s).astype(np.int16)


def motion(frames: np.ndarray) -> float:
    """Mean absolute change between consecutive frames."""
    return float(np.abs(np.diff(frames, axis=0)).mean())


@pytest.mark.parametrize("preset", sorted(SIZE_PRESETS))
def test_frames_have_the_spec_shape_and_dtype_for_each_preset(preset: str) -> None:
    width, height = SIZE_PRESETS[preset]
    s = GenerationSpec(prompt="hi", width=width, height=height, frames=8, mood=Mood.JOY)
    [result] = StickerBackend().generate([s])
    assert result.frames.shape == (8, height, width, 3)
    assert result.frames.dtype == np.uint8


def test_a_tiny_frame_with_a_long_caption_still_renders() -> None:
    s = spec(width=128, height=128, frames=8, caption="a very long caption " * 6)
    assert render_clip(s).shape == (8, 128, 128, 3)


def test_joy_is_warm_and_sadness_is_blue() -> None:
    joy = clip(spec(mood=Mood.JOY)).mean(axis=(0, 1, 2))
    sad = clip(spec(mood=Mood.SADNESS)).mean(axis=(0, 1, 2))
    assert joy[0] - sad[0] > 60, "joy should be much redder/warmer"
    assert sad[2] - sad[0] > 30, "sadness should lean blue"
    assert joy[0] - joy[2] > 60, "joy should lean yellow/orange"


def test_every_pair_of_moods_looks_clearly_different() -> None:
    clips = {mood: clip(spec(mood=mood)) for mood in Mood}
    for a, b in itertools.combinations(Mood, 2):
        diff = float(np.abs(clips[a] - clips[b]).mean())
        assert diff > 15, f"{a} and {b} differ by only {diff:.1f}"


@pytest.mark.parametrize("mood", list(Mood))
def test_high_intensity_moves_more_than_low(mood: Mood) -> None:
    low = motion(clip(spec(mood=mood, intensity=Intensity.LOW)))
    high = motion(clip(spec(mood=mood, intensity=Intensity.HIGH)))
    assert high > 1.3 * low, f"{mood}: high {high:.2f} vs low {low:.2f}"


def test_the_same_spec_gives_identical_frames() -> None:
    s = spec(mood=Mood.LOVE)
    assert np.array_equal(render_clip(s), render_clip(s))


def test_a_different_seed_changes_the_details_but_not_the_mood() -> None:
    a = clip(spec(mood=Mood.JOY, seed=1))
    b = clip(spec(mood=Mood.JOY, seed=2))
    sad = clip(spec(mood=Mood.SADNESS, seed=1))
    assert not np.array_equal(a, b)
    between_seeds = np.abs(a.mean(axis=(0, 1, 2)) - b.mean(axis=(0, 1, 2))).max()
    between_moods = np.abs(a.mean(axis=(0, 1, 2)) - sad.mean(axis=(0, 1, 2))).max()
    assert between_seeds < between_moods / 4


@pytest.mark.parametrize("mood", list(Mood))
def test_the_loop_is_periodic_frame_n_equals_frame_0(mood: Mood) -> None:
    scene = build_scene(spec(mood=mood, intensity=Intensity.HIGH))
    assert np.array_equal(render_frame(scene, scene.spec.frames), render_frame(scene, 0))


@pytest.mark.parametrize("mood", list(Mood))
@pytest.mark.parametrize("intensity", list(Intensity))
def test_the_seam_is_an_ordinary_step_not_a_jump(mood: Mood, intensity: Intensity) -> None:
    frames = clip(spec(mood=mood, intensity=intensity))
    steps = np.abs(np.diff(frames, axis=0)).mean(axis=(1, 2, 3))
    seam = float(np.abs(frames[-1] - frames[0]).mean())
    assert seam <= 1.5 * float(np.median(steps)), f"seam {seam:.2f}, steps {steps.round(2)}"


def test_the_caption_is_drawn_in_the_caption_band_only() -> None:
    hello = clip(spec(caption="HELLO THERE"))
    other = clip(spec(caption="bye now"))
    left, top, right, bottom = layout_for(256, 256).caption_box
    band = np.abs(hello[:, top:bottom, left:right] - other[:, top:bottom, left:right]).mean()
    assert band > 10
    assert np.array_equal(hello[:, : top - 1], other[:, : top - 1]), "the caption leaked above its band"


def test_an_empty_caption_shows_a_shortened_prompt() -> None:
    prompt = "when the build finally passes after three whole days of debugging the flaky test"
    text = caption_text("", prompt)
    assert text.endswith("…")
    assert len(text) <= 40
    assert prompt.startswith(text[:-1])
    assert caption_text("  keep   this ", prompt) == "keep this"
    with_prompt = clip(spec(caption="", prompt=prompt))
    with_caption = clip(spec(caption="something else", prompt=prompt))
    assert not np.array_equal(with_prompt, with_caption)


def test_progress_is_reported_once_per_frame_in_order() -> None:
    seen: list[StepProgress] = []
    s = spec(frames=10)
    [result] = StickerBackend().generate([s], on_progress=seen.append)
    assert [p.step for p in seen] == list(range(1, 11))
    assert {p.stage for p in seen} == {"rendering"}
    assert {p.total for p in seen} == {10}
    assert result.timings.rendering > 0
    assert result.timings.denoising == 0


def test_one_call_renders_specs_of_different_sizes_in_order() -> None:
    backend = StickerBackend()
    specs = [spec(width=256, height=128, frames=8), spec(width=128, height=256, frames=10, mood=Mood.FEAR)]
    results = backend.generate(specs)
    backend.close()
    assert [r.frames.shape for r in results] == [(8, 128, 256, 3), (10, 256, 128, 3)]
    assert (backend.name, backend.variant) == ("sticker", "sticker-v1")


def _equal_neighbours(frames: np.ndarray) -> float:
    """Share of horizontally adjacent pixel pairs with exactly the same colour."""
    return float((frames[:, :, 1:] == frames[:, :, :-1]).all(axis=-1).mean())


def test_pixel_art_is_blocky_and_unknown_styles_fall_back_to_cartoon() -> None:
    size = {"width": 480, "height": 480, "frames": 8}
    cartoon = clip(spec(style="cartoon", **size))
    pixel = clip(spec(style="pixel art", **size))
    pixel_changes, cartoon_changes = 1 - _equal_neighbours(pixel), 1 - _equal_neighbours(cartoon)
    assert pixel_changes < cartoon_changes / 2, f"pixel {pixel_changes:.3f} vs cartoon {cartoon_changes:.3f}"
    assert np.array_equal(clip(spec(style="watercolour dream", **size)), cartoon)


def test_characters_the_font_lacks_are_dropped_or_folded_never_drawn_as_boxes() -> None:
    assert np.array_equal(clip(spec(caption="we won 😍🎉")), clip(spec(caption="we won")))
    assert np.array_equal(clip(spec(caption="café déjà vu")), clip(spec(caption="cafe deja vu")))
    assert caption_text("Привет", prompt="a long prompt") == ""
