"""Which heard utterances are requests: those that start with the wake phrase ("reaction, a cat
dancing") in "wake" mode, or every one in "every" mode. Pure text in, request text out.

Recognition is loose, so the match is too: case, punctuation and a leading filler ("hey",
"okay") are ignored, and each word of the phrase may be heard a little off ("reactions",
"reacting", "re action") as long as it starts with the same letter, which keeps "action" and
"traction" from waking it.
"""

from __future__ import annotations

import difflib
import unicodedata
from typing import Literal, get_args

VoiceMode = Literal["wake", "every"]
VOICE_MODES: tuple[VoiceMode, ...] = get_args(VoiceMode)
DEFAULT_WAKE_PHRASE = "reaction"
MAX_WAKE_PHRASE_CHARS = 40
FILLERS = frozenset({"hey", "hi", "hello", "okay", "ok", "oh", "um", "uh", "so", "yo", "please", "and"})
MAX_FILLERS = 2
"""At most this many filler words may come before the phrase."""
SIMILAR = 0.75
"""difflib ratio from which a heard word counts as the phrase's word."""
EXACT_UP_TO = 3
"""Words this short must be heard exactly: one letter off would be another word."""


def words_of(text: str) -> list[str]:
    """Lower-case words of any script, without punctuation (NFKC first, so full-width forms match)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    kept = "".join(c if c.isalnum() else " " for c in folded)
    return kept.split()


def _same_word(heard: str, wanted: str) -> bool:
    if heard == wanted:
        return True
    if len(wanted) <= EXACT_UP_TO or heard[:1] != wanted[:1]:
        return False
    return difflib.SequenceMatcher(None, heard, wanted).ratio() >= SIMILAR


def _match_at(words: list[str], start: int, phrase: list[str]) -> int | None:
    """The index just past ``phrase`` heard from ``start``, or None. A phrase word may be heard as
    two words ("re action")."""
    position = start
    for wanted in phrase:
        if position < len(words) and _same_word(words[position], wanted):
            position += 1
        elif position + 1 < len(words) and _same_word(words[position] + words[position + 1], wanted):
            position += 2
        else:
            return None
    return position


def after_wake_phrase(text: str, phrase: str = DEFAULT_WAKE_PHRASE) -> str | None:
    """The words after the wake phrase, or None when ``text`` does not start with it (after at most
    ``MAX_FILLERS`` filler words). An empty string means the phrase alone was said."""
    words, wanted = words_of(text), words_of(phrase)
    if not wanted:
        raise ValueError("the wake phrase has no words")
    for start in range(MAX_FILLERS + 1):
        if start > 0 and (start > len(words) or words[start - 1] not in FILLERS):
            return None
        end = _match_at(words, start, wanted)
        if end is not None:
            return " ".join(words[end:])
    return None


def request_text(text: str, mode: VoiceMode, phrase: str = DEFAULT_WAKE_PHRASE) -> str | None:
    """What to make a clip of from one heard utterance, or None to let it pass."""
    if mode == "every":
        heard = " ".join(text.split())
        return heard or None
    if mode == "wake":
        return after_wake_phrase(text, phrase) or None
    raise ValueError(f"voice mode must be one of {', '.join(VOICE_MODES)}, not {mode!r}")
