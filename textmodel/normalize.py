"""Fold a message into one canonical form so that evasions read like the words they hide.

Both the lexicon and the semantic model read ``normalize(text)``: "K 1 l l  у0urѕеlf", "k.i.l.l
yourself" and "kiiiill yourself" all become "kill yourself". The steps are small functions, applied
in this order:

1. ``replace_discord_markup``: mentions become "@user", custom emoji their name.
2. ``replace_emoji``: emoji that stand in for words become those words (data/emoji_words.toml).
3. ``fold_unicode``: NFKC (fullwidth, math and circled letters), zero-width and combining marks
   removed, look-alike letters from other scripts mapped to Latin (data/confusables.toml), lower case.
4. ``join_spaced_letters``: "k i l l", "k.i.l.l", "k-i-l-l" become "kill"; ordinary words stay.
5. ``unleet``: digits and symbols inside words become letters ("k1ll" -> "kill"), while "3pm",
   "2 cats", "1v1" and "12yo" stay as written.
6. ``unstretch``: "kiiiiill" -> "kill", "goooood" -> "good"; real double letters stay.
7. ``split_run_together``: an unknown long word that is two or three known words ("killyourself",
   "iwanttodie") is split into them; a word of the dictionary ("sextant", "sextuplets") is not.

Steps 4-6 decide between readings with a word list (MiniLM's whole-word vocabulary plus the
lexicon's terms), so a guess is only taken when it makes a known word.
"""

from __future__ import annotations

import itertools
import re
import tomllib
import unicodedata
from functools import cache
from importlib import resources
from pathlib import Path

_DATA = resources.files("reactclip.textmodel") / "data"

# Characters that render as nothing (or only join neighbours) and so can split a word invisibly.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    "\ufeff\ufe00-\ufe0f\U000e0000-\U000e007f]"
)
_SKIN_TONES = re.compile("[\U0001f3fb-\U0001f3ff]")
_VARIATION_SELECTORS = re.compile("[\ufe0e\ufe0f]")
_REGIONAL_INDICATORS = {chr(0x1F1E6 + i): chr(ord("a") + i) for i in range(26)}

_MENTION = re.compile(r"<[@#][!&]?\d+>")
_CUSTOM_EMOJI = re.compile(r"<a?:(\w+):\d+>")

# Symbols read as letters inside a word. "1" and "|" are ambiguous (i or l): both are tried.
_LEET: dict[str, tuple[str, ...]] = {
    "4": ("a",),
    "@": ("a",),
    "3": ("e",),
    "€": ("e",),
    "1": ("i", "l"),
    "|": ("l", "i"),
    "!": ("i",),
    "0": ("o",),
    "5": ("s",),
    "$": ("s",),
    "7": ("t",),
    "+": ("t",),
    "8": ("b",),
    "9": ("g",),
    "6": ("g",),
}
# Whole tokens whose digits are phonetic rather than look-alike letters.
_PHONETIC = {"h8": "hate", "h8r": "hater", "h8rs": "haters", "h8ers": "haters", "gr8": "great", "m8": "mate"}

_TOKEN = re.compile(r"[a-z0-9@$€!|+]+")
# Numbers with a unit or an ordinal, scores and game modes: readable as they are.
_NUMBER_WITH_UNIT = re.compile(
    r"\d+(?:st|nd|rd|th|am|pm|k|m|b|s|x|d|h|hr|hrs|min|mins|sec|secs|ms|fps|hz|gb|mb|tb|kb|p|px|"
    r"yo|yr|yrs|y|cm|mm|km|kms|kg|g|lb|lbs|ft|in|mph|kph|v|w|c|f|gen)|\d+[a-z]\d+"
)
# Runs of single characters separated the same way: "k i l l", "k.i.l.l", "k-i-l-l", "k_i_l_l".
_SPACED_RUN = re.compile(
    r"(?<![a-z0-9@$])[a-z0-9@$](?:(?P<sep>[ .\-_*,/\\~+]{1,3})[a-z0-9@$])"
    r"(?:(?P=sep)[a-z0-9@$])+(?![a-z0-9@$])"
)
_STRETCH = re.compile(r"([a-z])\1{2,}")
_SPACES = re.compile(r"\s+")
# Word endings that are never words of their own when splitting a run-together word.
_SUFFIXES = frozenset(
    {"ing", "less", "ness", "ed", "er", "ers", "est", "ly", "ful", "tion", "ment", "able", "ish"}
)
# Short words allowed as pieces of a run-together phrase ("iwanttodie" -> "i want to die").
_SHORT_WORDS = frozenset(
    {"i", "a", "to", "me", "my", "u", "ur", "of", "in", "on", "it", "is", "go", "be", "do", "so", "no", "we"}
    | {"he", "up", "an", "at", "or", "am", "as", "by", "if", "us", "ya", "im", "oh", "ok"}
)


@cache
def _emoji_table() -> tuple[re.Pattern[str], dict[str, str]]:
    table = tomllib.loads((_DATA / "emoji_words.toml").read_text(encoding="utf-8"))["emoji"]
    words = {_VARIATION_SELECTORS.sub("", emoji): word for emoji, word in table.items()}
    pattern = re.compile("|".join(re.escape(e) for e in sorted(words, key=len, reverse=True)))
    return pattern, words


@cache
def _confusables() -> dict[int, str]:
    table = tomllib.loads((_DATA / "confusables.toml").read_text(encoding="utf-8"))["letters"]
    return {ord(char): latin for char, latin in table.items()}


KEPT_WHOLE_FILE = "kept_whole.txt"
"""Moderation's rule words and names, one a line (written by reactclip.moderation.vocabulary)."""


def data_dir() -> Path:
    return Path(str(_DATA))


@cache
def known_words() -> frozenset[str]:
    """Words that a reading may produce: MiniLM's whole-word vocabulary and the words of
    moderation's rules and names (data/kept_whole.txt), so that "steamy" stays whole, not
    "ste amy", and "messi" does not become "mess i"."""
    words: set[str] = set()
    try:
        from reactclip.textmodel.embedder import minilm_path

        vocab = (minilm_path() / "vocab.txt").read_text(encoding="utf-8").split()
        words.update(w for w in vocab if w.isascii() and w.isalpha() and (len(w) > 1 or w in "ai"))
    except (ImportError, OSError):  # the rules' own words are enough to read evasions of them
        pass
    lines = (_DATA / KEPT_WHOLE_FILE).read_text(encoding="utf-8").splitlines()
    words.update(line for line in lines if line and not line.startswith("#"))
    return frozenset(words)


def replace_discord_markup(text: str) -> str:
    text = _MENTION.sub(" @user ", text)
    return _CUSTOM_EMOJI.sub(lambda m: f" {m.group(1).replace('_', ' ')} ", text)


def replace_emoji(text: str) -> str:
    text = _SKIN_TONES.sub("", _VARIATION_SELECTORS.sub("", text))
    pattern, words = _emoji_table()
    # Flags like the pride flag are ZWJ sequences: match them before the joiner is dropped.
    text = pattern.sub(lambda m: f" {words[m.group()]} ", text)
    return "".join(_REGIONAL_INDICATORS.get(ch, ch) for ch in text)


def fold_unicode(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    text = unicodedata.normalize("NFD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.translate(_confusables())
    return unicodedata.normalize("NFC", text)


def _segment(letters: str, words: frozenset[str]) -> list[str] | None:
    """Split a run of letters into the fewest known words ("killyourself" -> kill, yourself)."""
    n = len(letters)
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for end in range(1, n + 1):
        for start in range(max(0, end - 20), end):
            head = best[start]
            piece = letters[start:end]
            if head is not None and piece in words and (len(piece) > 1 or piece in "ai"):
                candidate = [*head, piece]
                current = best[end]
                if current is None or len(candidate) < len(current):
                    best[end] = candidate
    return best[n]


def join_spaced_letters(text: str) -> str:
    words = known_words()

    def join(match: re.Match[str]) -> str:
        run = match.group()
        joined = re.sub(r"[^a-z0-9@$]", "", run)
        if sum(ch.isalpha() for ch in joined) < 2:
            return run
        readable = unleet(joined)
        if readable in words:
            return joined
        # Spaces between single letters also occur in ordinary text ("u r a"): only join a short
        # spaced run when it reads as a word; join longer ones and split them into known words.
        if match.group("sep").strip() == "" and len(joined) < 4:
            return run
        parts = _segment(readable, words)
        return " ".join(parts) if parts else joined

    return _SPACED_RUN.sub(join, text)


def _readings(token: str) -> list[str]:
    options = [_LEET.get(ch, (ch,)) for ch in token]
    combos = itertools.islice(itertools.product(*options), 16)
    return ["".join(c) for c in combos]


def _unleet_token(token: str) -> str:
    if token in _PHONETIC:
        return _PHONETIC[token]
    if not any(ch.isalpha() for ch in token) or all(ch.isalpha() for ch in token):
        return token
    if _NUMBER_WITH_UNIT.fullmatch(token):
        return token
    core = token.strip("!|+")  # trailing "!!!" is punctuation, not letters
    if not core or core != token:
        if core and any(ch.isalpha() for ch in core):
            return _unleet_token(core) + token[len(token.rstrip("!|+")) :]
        return token
    words = known_words()
    readings = _readings(token)
    for reading in readings:
        if reading in words or unstretch(reading) in words:
            return reading
    # No known word: still read symbols that sit between letters ("f4gg0t" style evasions of words
    # the list lacks), but leave leading symbols such as "@everyone" or "4head" alone.
    if re.search(r"[a-z][^a-z]+[a-z]", token) and token[0].isalpha():
        return readings[0]
    return token


def unleet(text: str) -> str:
    return _TOKEN.sub(lambda m: _unleet_token(m.group()), text)


def _unstretch_token(token: str) -> str:
    runs = list(_STRETCH.finditer(token))
    if not runs or len(set(token)) == 1:  # "kkk", "zzz": a run is the whole word
        return token
    words = known_words()
    # Each stretched run is read as two letters or one; the first known word wins, else one.
    for lengths in itertools.islice(itertools.product((2, 1), repeat=len(runs)), 16):
        out, last = [], 0
        for run, keep in zip(runs, lengths, strict=True):
            out.append(token[last : run.start()] + run.group(1) * keep)
            last = run.end()
        candidate = "".join(out) + token[last:]
        if candidate in words:
            return candidate
    return _STRETCH.sub(r"\1", token)


def unstretch(text: str) -> str:
    return re.sub(r"[a-z]+", lambda m: _unstretch_token(m.group()), text)


@cache
def dictionary_words() -> frozenset[str]:
    """English words beyond MiniLM's vocabulary (Webster's Second, through english-words): a token
    that is one of them is a word, not a run-together phrase ("sextant", "sexton", "cummins" stay
    whole). Only consulted before splitting; the pieces of a split still come from ``known_words``."""
    from english_words import get_english_words_set

    return frozenset(get_english_words_set(["web2"], lower=True, alpha=True))


_INFLECTIONS = ("s", "es", "ed", "d", "ing", "er", "ers")


def is_word(token: str) -> bool:
    """``token`` is a word as written or once an inflection comes off ("sextuplets")."""
    words, dictionary = known_words(), dictionary_words()
    if token in words or token in dictionary:
        return True
    return any(
        token.endswith(ending) and len(token) - len(ending) >= 4 and token[: -len(ending)] in dictionary
        for ending in _INFLECTIONS
    )


def _split_token(token: str) -> str:
    words = known_words()
    if len(token) < 5 or is_word(token):
        return token
    parts = _segment(token, words)
    # Few pieces, each a real word or a common short one: a run-together phrase, not a name chopped
    # into syllables ("discord" must not become "disco rd").
    if (
        parts
        and len(parts) <= 5
        and all((len(p) >= 3 or p in _SHORT_WORDS) and p not in _SUFFIXES for p in parts)
    ):
        return " ".join(parts)
    return token


def split_run_together(text: str) -> str:
    return re.sub(r"[a-z]+", lambda m: _split_token(m.group()), text)


def normalize(text: str) -> str:
    """The canonical folded, lower-case form of ``text`` for the lexicon and the embedder."""
    text = replace_emoji(replace_discord_markup(text))
    text = _SPACES.sub(" ", fold_unicode(text))
    text = join_spaced_letters(text)
    text = split_run_together(unstretch(unleet(text)))
    return _SPACES.sub(" ", text).strip()
