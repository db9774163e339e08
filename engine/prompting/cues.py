"""Surface cues of mood and intensity: words, emoji, punctuation, capitals and stretched letters.

A cheap first reading that needs no model. The understanding issue puts an embedding classifier in
front of it; these cues stay as its intensity features and as the fallback.
"""

from __future__ import annotations

import re
from collections import Counter

from reactclip.engine.mood import Intensity, Mood

MOOD_WORDS: dict[Mood, tuple[str, ...]] = {
    Mood.JOY: (
        "happy",
        "yay",
        "woo",
        "woohoo",
        "aced",
        "won",
        "win",
        "great",
        "awesome",
        "amazing",
        "lets go",
        "let's go",
        "congrats",
        "congratulations",
        "passed",
        "nailed",
        "love it",
        "excited",
        "hooray",
        "lol",
        "lmao",
        "haha",
        "fun",
        "celebrate",
        "promoted",
        "best day",
        "finally",
    ),
    Mood.LOVE: (
        "love you",
        "i love",
        "miss you",
        "adore",
        "crush",
        "sweetheart",
        "darling",
        "cute",
        "beautiful",
        "xoxo",
        "hugs",
        "kiss",
        "marry",
        "valentine",
        "babe",
        "wholesome",
    ),
    Mood.SADNESS: (
        "sad",
        "cry",
        "crying",
        "depressed",
        "lonely",
        "miss",
        "lost",
        "failed",
        "fail",
        "rip",
        "sorry",
        "heartbroken",
        "unhappy",
        "tears",
        "broke up",
        "dumped",
        "died",
        "passed away",
        "worst day",
        "sigh",
    ),
    Mood.ANGER: (
        "angry",
        "mad",
        "furious",
        "hate",
        "annoyed",
        "rage",
        "pissed",
        "unfair",
        "ugh",
        "stupid",
        "ridiculous",
        "so done",
        "fed up",
        "livid",
        "how dare",
    ),
    Mood.FEAR: (
        "scared",
        "afraid",
        "terrified",
        "nervous",
        "anxious",
        "panic",
        "spooky",
        "creepy",
        "horror",
        "help",
        "worried",
        "dread",
        "freaking out",
        "exam tomorrow",
    ),
    Mood.SURPRISE: (
        "wow",
        "whoa",
        "omg",
        "no way",
        "what",
        "wait",
        "really",
        "unbelievable",
        "shocked",
        "surprise",
        "plot twist",
        "didn't expect",
        "wtf",
        "holy",
    ),
    Mood.DISGUST: (
        "gross",
        "ew",
        "eww",
        "yuck",
        "disgusting",
        "nasty",
        "cringe",
        "vomit",
        "smells",
        "rotten",
        "ick",
    ),
}

EMOJI_MOODS: dict[str, Mood] = {
    "😀": Mood.JOY, "😃": Mood.JOY, "😄": Mood.JOY, "😁": Mood.JOY, "😂": Mood.JOY, "🤣": Mood.JOY,
    "🎉": Mood.JOY, "🥳": Mood.JOY, "😊": Mood.JOY, "🙌": Mood.JOY, "🔥": Mood.JOY, "💪": Mood.JOY,
    "❤": Mood.LOVE, "😍": Mood.LOVE, "🥰": Mood.LOVE, "😘": Mood.LOVE, "💕": Mood.LOVE, "💖": Mood.LOVE,
    "😢": Mood.SADNESS, "😭": Mood.SADNESS, "😞": Mood.SADNESS, "💔": Mood.SADNESS, "🥺": Mood.SADNESS,
    "😠": Mood.ANGER, "😡": Mood.ANGER, "🤬": Mood.ANGER, "💢": Mood.ANGER,
    "😨": Mood.FEAR, "😱": Mood.FEAR, "😰": Mood.FEAR, "😬": Mood.FEAR, "👻": Mood.FEAR,
    "😮": Mood.SURPRISE, "😲": Mood.SURPRISE, "🤯": Mood.SURPRISE, "😯": Mood.SURPRISE, "❗": Mood.SURPRISE,
    "🤢": Mood.DISGUST, "🤮": Mood.DISGUST, "😖": Mood.DISGUST,
}  # fmt: skip

INTENSIFIERS = (
    "so",
    "very",
    "really",
    "super",
    "totally",
    "absolutely",
    "extremely",
    "incredibly",
    "insanely",
)
STRETCHED = re.compile(r"([a-z])\1{2,}", re.IGNORECASE)


def _squeeze(text: str) -> str:
    """Lower-case with stretched letters squeezed ("sooo haaappy" -> "so happy")."""
    return STRETCHED.sub(r"\1", text.lower())


def _has_phrase(text: str, phrase: str) -> bool:
    return re.search(rf"(?<![\w']){re.escape(phrase)}(?![\w'])", text) is not None


def guess_mood(text: str) -> Mood:
    """The mood with the most cue hits (emoji count double); neutral when nothing matches."""
    squeezed = _squeeze(text)
    scores: Counter[Mood] = Counter()
    for mood, words in MOOD_WORDS.items():
        scores[mood] += sum(_has_phrase(squeezed, w) for w in words)
    for char in text:
        if char in EMOJI_MOODS:
            scores[EMOJI_MOODS[char]] += 2
    if not scores or max(scores.values()) == 0:
        return Mood.NEUTRAL
    # Ties go to the mood declared first, so the answer is stable.
    best = max(scores.values())
    return next(m for m in MOOD_WORDS if scores[m] == best)


def intensity_score(text: str) -> float:
    """0 (flat) to about 1 (shouting): exclamations, capitals, stretched letters, intensifiers, emoji."""
    letters = [c for c in text if c.isalpha()]
    caps = sum(c.isupper() for c in letters) / len(letters) if len(letters) >= 4 else 0.0
    exclaims = min(text.count("!"), 2) / 2
    stretched = min(len(STRETCHED.findall(text)), 2) / 2
    squeezed = _squeeze(text)
    boosts = min(sum(_has_phrase(squeezed, w) for w in INTENSIFIERS), 2) / 2
    emoji = min(sum(c in EMOJI_MOODS for c in text), 2) / 2
    return min(1.0, 0.35 * exclaims + 0.3 * caps + 0.2 * stretched + 0.15 * boosts + 0.3 * emoji)


def guess_intensity(text: str) -> Intensity:
    score = intensity_score(text)
    if score >= 0.45:
        return Intensity.HIGH
    if score >= 0.15:
        return Intensity.MEDIUM
    return Intensity.LOW
