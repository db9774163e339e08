"""Which heard utterances are requests: the wake phrase, tolerant of how recognition hears it, and
the "every utterance" mode."""

from __future__ import annotations

import pytest

from reactclip.speech.wake import after_wake_phrase, request_text


@pytest.mark.parametrize(
    ("heard", "rest"),
    [
        ("reaction a cat dancing on the table", "a cat dancing on the table"),
        ("Reaction: we WON the finals!!", "we won the finals"),
        ("hey reaction we won", "we won"),
        ("okay so reaction we won", "we won"),
        ("reactions we won", "we won"),
        ("reacting we won", "we won"),
        ("re action we won", "we won"),
        ("ｒｅａｃｔｉｏｎ we won", "we won"),  # full-width letters
        ("reaction", ""),
    ],
)
def test_the_wake_phrase_is_found_however_it_is_heard(heard: str, rest: str) -> None:
    assert after_wake_phrase(heard) == rest


@pytest.mark.parametrize(
    "heard",
    [
        "action movies are great",  # a different first letter: another word
        "traction control is on",
        "we won the finals",
        "I had a reaction to the vaccine",  # the phrase must lead, not just appear
        "hey hey hey reaction we won",  # more filler than a person says before a command
        "",
    ],
)
def test_other_speech_does_not_wake_it(heard: str) -> None:
    assert after_wake_phrase(heard) is None


def test_a_guild_phrase_of_several_words_and_any_script() -> None:
    assert after_wake_phrase("hey clip bot a dancing cat", "clip bot") == "a dancing cat"
    assert after_wake_phrase("clip a dancing cat", "clip bot") is None
    assert after_wake_phrase("리액션 고양이가 춤을 춘다", "리액션") == "고양이가 춤을 춘다"


def test_wake_mode_needs_words_after_the_phrase_and_every_mode_takes_any_speech() -> None:
    assert request_text("reaction we won", "wake") == "we won"
    assert request_text("reaction", "wake") is None  # the phrase alone asks for nothing
    assert request_text("we won the finals", "wake") is None
    assert request_text("we  won the finals", "every") == "we won the finals"
    assert request_text("   ", "every") is None
    with pytest.raises(ValueError, match="voice mode"):
        request_text("we won", "sometimes")  # type: ignore[arg-type]
