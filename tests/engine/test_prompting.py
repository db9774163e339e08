"""Text to spec: mood and intensity cues, templates from the data file, stable output."""

from __future__ import annotations

import pytest

from reactclip.engine.mood import Intensity, Mood
from reactclip.engine.prompting import (
    build_prompt,
    guess_intensity,
    guess_mood,
    short_caption,
    spec_from_text,
)
from reactclip.engine.prompting.builder import load_templates
from reactclip.engine.spec import SpecError


@pytest.mark.parametrize(
    ("text", "mood"),
    [
        ("I aced my exam!", Mood.JOY),
        ("I love you so much", Mood.LOVE),
        ("my dog died today", Mood.SADNESS),
        ("this is so unfair, I'm furious", Mood.ANGER),
        ("I'm scared of the dark", Mood.FEAR),
        ("whoa, no way!", Mood.SURPRISE),
        ("ewww that's gross", Mood.DISGUST),
        ("the meeting moved to 3pm", Mood.NEUTRAL),
        ("😭😭", Mood.SADNESS),
        ("soooo haaappy", Mood.JOY),
    ],
)
def test_mood_cues(text: str, mood: Mood) -> None:
    assert guess_mood(text) is mood


def test_words_match_whole_words_only() -> None:
    # "sad" inside "Picasso adores" or "mad" inside "nomad" must not count.
    assert guess_mood("the nomad visited Picasso's studio") is Mood.NEUTRAL


def test_shouting_reads_as_more_intense_than_calm_text() -> None:
    assert guess_intensity("ok fine") is Intensity.LOW
    assert guess_intensity("I aced my exam!") is Intensity.MEDIUM
    assert guess_intensity("I AM SO MAD RIGHT NOW!!!") is Intensity.HIGH


def test_prompt_uses_the_templates_for_mood_style_and_subject() -> None:
    templates = load_templates()
    prompt = build_prompt("we won", Mood.JOY, Intensity.HIGH, "pixel art", subject="a corgi")
    assert prompt.startswith("A corgi")
    assert templates["moods"]["joy"]["action"] in prompt
    assert templates["styles"]["pixel art"]["words"] in prompt
    assert templates["intensity"]["high"] in prompt
    with pytest.raises(SpecError, match="style"):
        build_prompt("x", Mood.JOY, Intensity.LOW, "oil painting")


def test_same_text_same_spec_and_style_changes_the_seed() -> None:
    a = spec_from_text("I aced my exam!")
    assert a == spec_from_text("I aced my exam!")
    assert a.mood is Mood.JOY and a.caption == "I aced my exam!"
    assert spec_from_text("I aced my exam!", style="anime").seed != a.seed
    assert spec_from_text("I aced my exam!", seed=5).seed == 5


def test_captions_are_cut_at_a_word_with_an_ellipsis() -> None:
    caption = short_caption("word " * 40, limit=30)
    assert len(caption) <= 30 and caption.endswith("…") and "wor…" not in caption


def test_empty_text_is_refused() -> None:
    with pytest.raises(SpecError, match="nothing to react to"):
        spec_from_text("  ")
