"""Text to spec: mood and intensity cues, templates from the data file, stable output."""

from __future__ import annotations

from pathlib import Path

import pytest

from reactclip.engine.mood import Intensity, Mood
from reactclip.engine.prompting import (
    EmotionReading,
    build_prompt,
    extract_subject,
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
    assert templates["moods"]["joy"]["action"]["high"] in prompt
    assert templates["styles"]["pixel art"]["words"] in prompt
    assert templates["intensity"]["high"] in prompt
    with pytest.raises(SpecError, match="style"):
        build_prompt("x", Mood.JOY, Intensity.LOW, "oil painting")


# "soft" and "light" are left out: the camera words light every prompt softly.
CALM_WORDS = {"subtle", "small", "slightly", "slight", "softly", "little", "mildly", "quietly", "gentle"}
STRONG_WORDS = {
    "huge",
    "giant",
    "over-the-top",
    "exaggerated",
    "wild",
    "wildly",
    "violently",
    "frantic",
    "sobbing",
}
STRONG_WORDS |= {
    "ecstatic",
    "screaming",
    "erupting",
    "furious",
    "utterly",
    "blasting",
    "bursting",
    "terrified",
}


@pytest.mark.parametrize("mood", list(Mood))
@pytest.mark.parametrize("subject_named", [False, True])
def test_a_prompt_never_holds_words_of_another_intensity(mood: Mood, subject_named: bool) -> None:
    for intensity, forbidden in ((Intensity.LOW, STRONG_WORDS), (Intensity.HIGH, CALM_WORDS)):
        prompt = build_prompt(
            "hello there", mood, intensity, "cartoon", "a corgi", subject_named=subject_named
        )
        words = set(prompt.lower().replace(",", " ").replace(".", " ").split())
        assert not words & forbidden, (intensity, prompt)
    medium = build_prompt("hello there", mood, Intensity.MEDIUM, "cartoon", subject_named=subject_named)
    assert not set(medium.lower().replace(",", " ").split()) & {"subtle", "over-the-top", "huge"}


def test_an_operator_template_may_give_one_phrase_for_every_intensity(tmp_path: Path) -> None:
    custom = tmp_path / "templates.toml"
    custom.write_text('[moods.joy]\naction = "doing a happy dance"\n', encoding="utf-8")
    for intensity in Intensity:
        assert "doing a happy dance" in build_prompt(
            "yay", Mood.JOY, intensity, "cartoon", templates_path=custom
        )


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


# -- emotion readings, subjects and operator templates ---------------------------------------------


def test_negation_and_sarcasm_cues() -> None:
    assert guess_mood("not bad at all") is Mood.JOY
    assert guess_mood("I'm not happy about this") in (Mood.SADNESS, Mood.ANGER)
    assert guess_mood("i can't stop crying") is Mood.SADNESS
    assert guess_mood("oh great, another monday 🙄") is Mood.ANGER
    assert guess_mood("💀💀") is Mood.JOY


@pytest.mark.parametrize(
    ("text", "subject"),
    [
        ("make a clip of a dancing cat", "a dancing cat"),
        ("can you make a gif of a cat on a skateboard pls 🐱", "a cat on a skateboard"),
        ("show me a sad frog", "a sad frog"),
        ("draw a dog eating pizza", "a dog eating pizza"),
        ("gif of pikachu crying", "pikachu crying"),
        ("a penguin that just won the lottery", "a penguin that just won the lottery"),
        ("hey bot, draw a robot making coffee!", "a robot making coffee"),
        ("I aced my exam!", None),
        ("a bit tired today", None),
        ("a guy at my work is so annoying", None),
        ("show me what you got", None),
    ],
)
def test_requests_that_name_a_subject_keep_it(text: str, subject: str | None) -> None:
    assert extract_subject(text, load_templates()["subject"]) == subject


def test_a_named_subject_is_shown_not_reacted_to() -> None:
    spec = spec_from_text("gif of pikachu crying", mascot="a corgi")
    assert spec.prompt.startswith("Pikachu crying")
    assert "reacting to" not in spec.prompt and "corgi" not in spec.prompt


def test_other_messages_show_the_mascot_reacting() -> None:
    default = load_templates()["prompt"]["default_subject"]
    assert spec_from_text("I aced my exam!").prompt.startswith(default[:1].upper() + default[1:])
    spec = spec_from_text("I aced my exam!", mascot="a grumpy corgi")
    assert spec.prompt.startswith("A grumpy corgi") and 'reacting to "I aced my exam!"' in spec.prompt


def test_a_reading_sets_mood_and_intensity_unless_overridden() -> None:
    reading = EmotionReading(Mood.FEAR, Intensity.HIGH, 0.9, {m: 0.0 for m in Mood} | {Mood.FEAR: 0.9})
    spec = spec_from_text("tomorrow is the day", reading=reading)
    assert (spec.mood, spec.intensity) == (Mood.FEAR, Intensity.HIGH)
    assert load_templates()["moods"]["fear"]["negative"] in spec.negative_prompt
    override = spec_from_text("tomorrow is the day", reading=reading, mood=Mood.JOY)
    assert override.mood is Mood.JOY and override.intensity is Intensity.HIGH


def test_same_input_and_settings_give_an_identical_spec() -> None:
    kwargs = {"style": "comic", "mascot": "a frog", "width": 480, "height": 480, "frames": 8}
    assert spec_from_text("whoa, no way!", **kwargs) == spec_from_text("whoa, no way!", **kwargs)
    assert (
        spec_from_text("whoa, no way!", **kwargs).to_dict()
        == spec_from_text("whoa, no way!", **kwargs).to_dict()
    )


def test_cli_style_fields_pass_through() -> None:
    spec = spec_from_text("hi", mood=Mood.LOVE, style="anime", seed=3, width=480, height=480, format="gif")
    assert (spec.mood, spec.seed, spec.width, spec.format.value) == (Mood.LOVE, 3, 480, "gif")


def test_an_operator_templates_file_overrides_the_shipped_one(tmp_path: Path) -> None:
    path = tmp_path / "templates.toml"
    path.write_text(
        '[prompt]\ndefault_subject = "a tiny dragon"\n'
        '[styles.vaporwave]\nwords = "vaporwave, neon pink and teal"\n'
        '[moods.joy]\naction = "doing a victory lap"\n',
        "utf-8",
    )
    spec = spec_from_text("we won", style="vaporwave", mood=Mood.JOY, templates_path=path)
    assert spec.prompt.startswith("A tiny dragon doing a victory lap")
    assert "neon pink and teal" in spec.prompt
    # What the file does not set comes from the shipped templates.
    assert load_templates()["moods"]["joy"]["motion"][spec.intensity.value] in spec.prompt
    with pytest.raises(SpecError, match="style"):
        spec_from_text("we won", style="vaporwave")


def test_an_unreadable_templates_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[prompt\n", "utf-8")
    with pytest.raises(SpecError, match="templates"):
        load_templates(path)
