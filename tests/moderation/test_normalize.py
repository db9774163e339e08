from __future__ import annotations

import pytest

from reactclip.textmodel.normalize import (
    fold_unicode,
    join_spaced_letters,
    normalize,
    replace_emoji,
    unleet,
    unstretch,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ｋｉｌｌ", "kill"),  # fullwidth
        ("kіll", "kill"),  # Cyrillic і
        ("ѕех", "sex"),  # Cyrillic s, e, x
        ("κιλλ".replace("λ", "l"), "kill"),  # Greek kappa, iota
        ("k\u200bi\u200cl\u200dl", "kill"),  # zero-width characters
        ("kíll", "kill"),  # combining accent
        ("ᴋɪʟʟ", "kill"),  # small capitals
    ],
)
def test_fold_unicode_maps_lookalikes_to_latin(raw: str, expected: str) -> None:
    assert fold_unicode(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("k1ll", "kill"), ("p0rn", "porn"), ("s3x", "sex"), ("@ss", "ass"), ("$hit", "shit"), ("d!e", "die")],
)
def test_unleet_reads_symbols_inside_words(raw: str, expected: str) -> None:
    assert unleet(raw) == expected


@pytest.mark.parametrize(
    "text", ["3pm", "2 cats", "1v1 me", "12yo", "5am run", "60fps", "@everyone", "wow!!", "ps5"]
)
def test_unleet_keeps_numbers_and_units_readable(text: str) -> None:
    assert unleet(text) == text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("k i l l", "kill"), ("k.i.l.l", "kill"), ("k-i-l-l", "kill"), ("k_y_s", "kys"), ("k y s", "kys")],
)
def test_join_spaced_letters(raw: str, expected: str) -> None:
    assert join_spaced_letters(raw) == expected


@pytest.mark.parametrize("text", ["u r a legend", "i am a cat", "i got a b in math", "good morning everyone"])
def test_ordinary_spaced_words_stay(text: str) -> None:
    assert join_spaced_letters(text) == text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("kiiiiill", "kill"), ("goooood", "good"), ("good", "good"), ("nooooo", "no"), ("kkk", "kkk")],
)
def test_unstretch_keeps_real_double_letters(raw: str, expected: str) -> None:
    assert unstretch(raw) == expected


def test_emoji_become_words() -> None:
    assert replace_emoji("🍆💦").split() == ["eggplant", "splashing"]
    assert "knife" in replace_emoji("🔪")
    assert "skull" in replace_emoji("💀\ufe0f")
    assert "blood" in replace_emoji("🩸")
    assert "gun" in replace_emoji("🔫")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("K 1 l l  у0urѕеlf", "kill yourself"),
        ("k.i.l.l yourself", "kill yourself"),
        ("KIIIIILL YOURSELF", "kill yourself"),
        ("killyourself", "kill yourself"),
        ("iwanttodie", "i want to die"),
        ("🇰🇾🇸", "kys"),
        ("<@123456789> hi", "@user hi"),
        ("this is fucking awesome", "this is fucking awesome"),
        ("meeting at 3pm with 2 cats", "meeting at 3pm with 2 cats"),
    ],
)
def test_normalize_end_to_end(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_the_words_kept_whole_are_written_from_moderations_rules_as_they_are_now() -> None:
    from reactclip.moderation.vocabulary import rule_words
    from reactclip.textmodel.normalize import KEPT_WHOLE_FILE, data_dir

    lines = (data_dir() / KEPT_WHOLE_FILE).read_text(encoding="utf-8").splitlines()
    written = {line for line in lines if line and not line.startswith("#")}
    assert written == rule_words(), "the rules changed: python -m reactclip.moderation.vocabulary"
