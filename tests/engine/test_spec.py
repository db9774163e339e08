"""GenerationSpec validates early and maps user-facing frames and sizes to what Wan accepts."""

from __future__ import annotations

import pytest

from reactclip.engine.mood import Mood
from reactclip.engine.spec import (
    SIZE_PRESETS,
    GenerationSpec,
    OutputFormat,
    SpecError,
    model_frame_count,
    parse_size,
    seed_for,
)


def test_defaults_are_a_valid_480p_landscape_spec() -> None:
    spec = GenerationSpec(prompt="a happy cat")
    assert (spec.width, spec.height) == SIZE_PRESETS["landscape"] == (832, 480)
    assert 8 <= spec.frames <= 16
    assert 20 <= spec.steps <= 25
    assert 6 <= spec.guidance <= 9


@pytest.mark.parametrize(
    ("frames", "expected"), [(8, 9), (9, 9), (10, 13), (12, 13), (13, 13), (14, 17), (16, 17)]
)
def test_frames_map_to_the_smallest_wan_count_of_the_form_4k_plus_1(frames: int, expected: int) -> None:
    assert model_frame_count(frames) == expected
    spec = GenerationSpec(prompt="x", frames=frames)
    assert spec.model_frames == expected
    assert (spec.model_frames - 1) % 4 == 0 and spec.model_frames >= frames


def test_sizes_off_the_32_grid_render_larger_and_are_cropped_back() -> None:
    spec = GenerationSpec(prompt="x", width=320, height=240)
    assert (spec.model_width, spec.model_height) == (320, 256)
    preset = GenerationSpec(prompt="x", width=480, height=832)
    assert (preset.model_width, preset.model_height) == (480, 832)


@pytest.mark.parametrize(
    ("fields", "field", "hint"),
    [
        ({"width": 833}, "width", "multiple of 16"),
        ({"height": 2048}, "height", "128 to 1024"),
        ({"width": 64}, "width", "128 to 1024"),
        ({"frames": 7}, "frames", "8-16"),
        ({"frames": 17}, "frames", "8-16"),
        ({"fps": 30}, "fps", "8-16"),
        ({"steps": 0}, "steps", "1-100"),
        ({"steps": 500}, "steps", "1-100"),
        ({"guidance": 0.5}, "guidance", "1.0-20.0"),
        ({"guidance": 25.0}, "guidance", "6-9 works best"),
        ({"seed": -1}, "seed", "outside"),
        ({"prompt": "   "}, "prompt", "empty"),
        ({"format": "avi"}, "format", "mp4, gif, webp"),
        ({"mood": "bored"}, "mood", "joy"),
        ({"frames": 12.5}, "frames", "whole number"),
        ({"variant": ""}, "variant", "model variant"),
    ],
)
def test_bad_values_are_refused_naming_the_field_and_what_is_allowed(
    fields: dict[str, object], field: str, hint: str
) -> None:
    with pytest.raises(SpecError) as caught:
        GenerationSpec(**{"prompt": "a cat", **fields})  # type: ignore[arg-type]
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")
    assert hint in str(caught.value)


def test_strings_become_enums_and_replace_validates_again() -> None:
    spec = GenerationSpec(prompt="x", format="gif", mood="joy")  # type: ignore[arg-type]
    assert spec.format is OutputFormat.GIF and spec.mood is Mood.JOY
    with pytest.raises(SpecError, match="frames"):
        spec.replace(frames=99)


def test_to_dict_is_plain_json_and_batch_key_groups_compatible_specs() -> None:
    a = GenerationSpec(prompt="one", seed=1)
    b = GenerationSpec(prompt="two", seed=2, negative_prompt="ugly")
    c = GenerationSpec(prompt="one", steps=25)
    assert a.to_dict()["format"] == "mp4" and a.to_dict()["mood"] == "neutral"
    assert a.batch_key() == b.batch_key()
    assert a.batch_key() != c.batch_key()
    # 14, 15 and 16 frames all render as 17 and can share a batch.
    fourteen, sixteen = GenerationSpec(prompt="x", frames=14), GenerationSpec(prompt="x", frames=16)
    assert fourteen.batch_key() == sixteen.batch_key()


def test_parse_size_reads_presets_and_refuses_garbage() -> None:
    assert parse_size("portrait") == (480, 832)
    assert parse_size("480x480") == (480, 480)
    with pytest.raises(SpecError, match="832x480"):
        parse_size("big")


def test_seed_for_is_stable_and_spreads() -> None:
    assert seed_for("hello") == seed_for("hello")
    assert len({seed_for(f"text {i}") for i in range(100)}) == 100


def test_text_from_the_cli_or_json_is_coerced_but_booleans_and_strangers_are_refused() -> None:
    spec = GenerationSpec(prompt="x", frames="12", guidance="7", seed="42")  # type: ignore[arg-type]
    assert (spec.frames, spec.guidance, spec.seed) == (12, 7.0, 42)
    assert spec.to_dict()["guidance"] == 7.0 == GenerationSpec(prompt="x", guidance=7).to_dict()["guidance"]
    with pytest.raises(SpecError) as caught:
        GenerationSpec(prompt="x", frames=True)
    assert caught.value.field == "frames"
    with pytest.raises(SpecError) as caught:
        GenerationSpec(prompt="x", colour="red")  # type: ignore[call-arg]
    assert caught.value.field == "colour" and "not a field" in str(caught.value)


def test_specs_are_frozen_and_hashable() -> None:
    spec = GenerationSpec(prompt="x")
    assert {spec: 1}[GenerationSpec(prompt="x")] == 1
    with pytest.raises(ValueError):
        spec.frames = 8  # type: ignore[misc]
