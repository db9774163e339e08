"""Surface cues of mood and intensity: words, slang, emoji, negation, sarcasm, punctuation, capitals.

A cheap first reading that needs no model. The emotion reader (emotion.py) feeds these cues to its
classifier next to a sentence embedding, uses them alone when no embedder is configured, and takes
intensity from them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from reactclip.engine.mood import Intensity, Mood

MOOD_WORDS: dict[Mood, tuple[str, ...]] = {
    Mood.JOY: (
        "happy", "yay", "woo", "woohoo", "aced", "won", "win", "great", "awesome", "amazing", "lets go",
        "let's go", "congrats", "congratulations", "passed", "nailed", "love it", "excited", "hooray",
        "lol", "lmao", "lmfao", "rofl", "haha", "hehe", "xd", "fun", "funny", "hilarious", "celebrate",
        "promoted", "best day", "finally", "pog", "poggers", "sheesh", "gg", "ez", "dub", "hyped", "hype",
        "banger", "slaps", "goated", "ded", "i'm dead", "im dead", "wheezing", "proud", "so back", "yes",
        "yess", "good news", "fire", "lit", "nice",
    ),
    Mood.LOVE: (
        "love you", "love u", "love ya", "ily", "ilysm", "i love", "miss you", "adore", "crush",
        "sweetheart", "darling", "cute", "cutest", "adorable", "beautiful", "gorgeous", "xoxo", "hugs",
        "kiss", "kisses", "mwah", "marry", "valentine", "babe", "bestie", "wholesome", "aww", "blush",
        "soulmate", "in love", "precious", "sweetest", "<3", "miss u", "miss ya", "missed you", "ilu", "luv",
        "grateful", "thankful", "appreciate you", "lucky to have", "my person", "cuddle", "cuddles",
        "love of my life",
    ),
    Mood.SADNESS: (
        "sad", "cry", "crying", "cried", "depressed", "depressing", "lonely", "alone", "miss", "lost",
        "failed", "fail", "rip", "press f", "sorry", "heartbroken", "unhappy", "tears", "broke up",
        "dumped", "died", "passed away", "worst day", "sigh", "pain", "it's over", "its over",
        "disappointed", "devastated", "gone", "down", "sadge", "empty", "miserable", "exhausted", "drained",
        "numb", "hurts", "homesick", "bittersweet", "give up", "what's the point", "not good enough",
        "left on read", "nobody cares", "no one cares", "drifted apart", "defeated",
    ),
    Mood.ANGER: (
        "angry", "mad", "furious", "hate", "annoyed", "annoying", "rage", "pissed", "unfair", "ugh",
        "stupid", "ridiculous", "so done", "fed up", "livid", "how dare", "smh", "ffs", "stfu",
        "shut up", "bruh", "who asked", "nobody asked", "ratio", "clown", "rigged", "trash", "bullshit",
        "seriously", "the audacity", "rude", "tilted", "scam", "scammed", "leave me alone", "sick of",
        "sick and tired", "fuming", "infuriating", "irritating", "pisses me off", "let down", "you promised",
        "every single time", "unacceptable", "can't stand", "kidding me", "blood boil",
    ),
    Mood.FEAR: (
        "scared", "scary", "afraid", "terrified", "terrifying", "nervous", "anxious", "anxiety", "panic",
        "panicking", "spooky", "creepy", "horror", "help", "worried", "dread", "freaking out",
        "exam tomorrow", "uh oh", "oh no", "nope", "shaking", "paranoid", "doomed", "spooked", "frightened",
        "what if", "bad feeling", "panic attack",
    ),
    Mood.SURPRISE: (
        "wow", "whoa", "woah", "omg", "no way", "what", "wait", "really", "unbelievable", "shocked",
        "surprise", "surprised", "plot twist", "didn't expect", "wtf", "holy", "shook", "no shot",
        "deadass", "speechless", "jaw dropped", "can't believe", "cant believe", "out of nowhere",
        "mind blown", "since when", "for real", "wild", "hold up", "wait what", "ain't no way",
        "didn't see that coming", "who knew", "excuse me",
    ),
    Mood.DISGUST: (
        "gross", "ew", "eww", "yuck", "disgusting", "disgusted", "nasty", "cringe", "vomit", "puke",
        "smells", "stinks", "rotten", "ick", "foul", "vile", "revolting", "repulsive", "cursed", "gag",
        "gagging", "blegh", "bleh", "moldy", "mold", "yikes", "grossed out", "nauseous", "eye bleach", "icky",
        "barf", "reeks", "unsanitary", "unhygienic", "slimy", "crusty", "cringey", "cringing", "filthy",
        "secondhand embarrassment", "skin crawl", "skin is crawling", "throw up", "threw up", "abomination",
    ),
}  # fmt: skip
"""Words and phrases per mood. Letters may be stretched in the text ("haaappy", "lmaooo")."""

EMOJI_MOODS: dict[str, Mood] = {
    "😀": Mood.JOY, "😃": Mood.JOY, "😄": Mood.JOY, "😁": Mood.JOY, "😂": Mood.JOY, "🤣": Mood.JOY,
    "🎉": Mood.JOY, "🥳": Mood.JOY, "😊": Mood.JOY, "🙌": Mood.JOY, "🔥": Mood.JOY, "💪": Mood.JOY,
    "💀": Mood.JOY, "😆": Mood.JOY, "😹": Mood.JOY, "🤩": Mood.JOY, "😎": Mood.JOY, "💯": Mood.JOY,
    "🏆": Mood.JOY, "👏": Mood.JOY, "🍾": Mood.JOY, "🎂": Mood.JOY, "😺": Mood.JOY, "😸": Mood.JOY,
    "❤": Mood.LOVE, "😍": Mood.LOVE, "🥰": Mood.LOVE, "😘": Mood.LOVE, "💕": Mood.LOVE, "💖": Mood.LOVE,
    "💗": Mood.LOVE, "💓": Mood.LOVE, "💞": Mood.LOVE, "💘": Mood.LOVE, "💝": Mood.LOVE, "💜": Mood.LOVE,
    "💙": Mood.LOVE, "💚": Mood.LOVE, "🧡": Mood.LOVE, "💛": Mood.LOVE, "🥹": Mood.LOVE, "😻": Mood.LOVE,
    "🤗": Mood.LOVE, "🫂": Mood.LOVE, "💍": Mood.LOVE, "💑": Mood.LOVE, "😚": Mood.LOVE, "🌹": Mood.LOVE,
    "💐": Mood.LOVE,
    "😢": Mood.SADNESS, "😭": Mood.SADNESS, "😞": Mood.SADNESS, "💔": Mood.SADNESS, "🥺": Mood.SADNESS,
    "😔": Mood.SADNESS, "😿": Mood.SADNESS, "🥀": Mood.SADNESS, "😥": Mood.SADNESS, "😓": Mood.SADNESS,
    "😪": Mood.SADNESS, "☹": Mood.SADNESS, "🙁": Mood.SADNESS,
    "😠": Mood.ANGER, "😡": Mood.ANGER, "🤬": Mood.ANGER, "💢": Mood.ANGER, "😤": Mood.ANGER,
    "🙄": Mood.ANGER, "👿": Mood.ANGER, "🖕": Mood.ANGER, "🤡": Mood.ANGER, "😒": Mood.ANGER,
    "😨": Mood.FEAR, "😱": Mood.FEAR, "😰": Mood.FEAR, "😬": Mood.FEAR, "👻": Mood.FEAR, "😧": Mood.FEAR,
    "😟": Mood.FEAR, "🫣": Mood.FEAR, "😖": Mood.FEAR,
    "😮": Mood.SURPRISE, "😲": Mood.SURPRISE, "🤯": Mood.SURPRISE, "😯": Mood.SURPRISE, "❗": Mood.SURPRISE,
    "😳": Mood.SURPRISE, "‼": Mood.SURPRISE, "⁉": Mood.SURPRISE, "😦": Mood.SURPRISE, "🙀": Mood.SURPRISE,
    "🤢": Mood.DISGUST, "🤮": Mood.DISGUST, "💩": Mood.DISGUST, "🤧": Mood.DISGUST, "😷": Mood.DISGUST,
}  # fmt: skip
"""Discord reads some emoji its own way: 💀 is "I'm dead (laughing)", 🙄 and 🤡 are annoyance."""

SHOUTED_SLANG: dict[str, Mood] = {"W": Mood.JOY, "L": Mood.SADNESS, "F": Mood.SADNESS}
"""Single capital letters that are whole words on Discord: a win, a loss, paying respects."""

NEGATORS = (
    "not", "no", "never", "isn't", "isnt", "wasn't", "wasnt", "aren't", "arent", "don't", "dont",
    "didn't", "didnt", "doesn't", "doesnt", "ain't", "aint", "hardly", "nor", "cannot", "can't", "cant",
    "won't", "wont", "without", "nothing", "neither",
)  # fmt: skip
NEGATION_BREAKERS = ("stop", "wait", "help", "believe", "lie", "cap")
"""Words that turn a negator into something else: "can't stop crying" is crying, "no cap" is slang."""
NEGATION_WINDOW = 3
"""How many words before a cue a negator may stand ("not even that bad")."""

POSITIVE_EXTRA = ("good", "ok", "okay", "fine", "fair", "cool", "glad", "fun", "excited", "thrilled")
NEGATIVE_EXTRA = ("bad", "terrible", "awful", "horrible", "upset", "worried", "worse", "wrong")
"""Words that carry no mood of their own but flip one under negation ("not bad", "not okay")."""

SARCASM_MARKERS = (
    r"(?<!\w)/s\b", r"\byeah,? right\b", r"\boh,? (?:great|wonderful|fantastic|perfect|joy)\b",
    r"\bgreat,? just great\b", r"\bsure,? because\b", r"\bbecause that always works\b",
    r"\blove that for me\b", r"\bthanks (?:a lot )?for nothing\b", r"\bjust what i needed\b",
    r"^as if\b", r"\bwhat could (?:possibly )?go wrong\b", r"\bcool cool cool\b", r"\boh sure\b",
    r"\bsure,? (?:that'?ll|that will)\b", r"\bwhat a surprise\b", r"\bshocking,? i know\b",
    r"\bthanks for ruining\b", "🙄",
)  # fmt: skip
"""Regular expressions (over lower-cased text) that mark praise as ironic."""


INTENSIFIERS = (
    "so", "very", "really", "super", "totally", "absolutely", "extremely", "incredibly", "insanely",
    "literally", "af", "fr fr", "no cap", "ngl", "highkey", "hella",
)  # fmt: skip
DOWNTONERS = (
    "mildly", "slightly", "kinda", "kind of", "sort of", "sorta", "a bit", "a little", "a tad", "somewhat",
    "lowkey", "low key", "a smidge", "not that", "not very", "not too", "not super", "fairly", "semi",
)  # fmt: skip
"""Hedges that soften a feeling ("mildly annoying", "kinda sad"): intensity reads lower for them."""
STRETCHED = re.compile(r"([a-z])\1{2,}", re.IGNORECASE)
WORD = re.compile(r"[\w']+|<3")
POSITIVE_MOODS = (Mood.JOY, Mood.LOVE)
NEGATIVE_MOODS = (Mood.SADNESS, Mood.ANGER, Mood.FEAR, Mood.DISGUST)
EMOJI_WEIGHT = 2.0


def _phrase_pattern(phrase: str) -> str:
    """A phrase as a regex that tolerates stretched letters and a missing apostrophe."""
    parts: list[str] = []
    for char in phrase:
        if char.isalpha():
            parts.append(re.escape(char) + "+")
        elif char == "'":
            parts.append("'?")
        elif char == " ":
            parts.append(r"\s+")
        else:
            parts.append(re.escape(char))
    pattern = "".join(parts)
    last = phrase.split(" ")[-1]
    if len(last) >= 4 and last.isalpha():
        # Inflections of longer words: "dread" -> "dreading", "scream" -> "screamed".
        pattern += "(?:s|es|ed|d|ing|y)?"
    return pattern


@cache
def _compiled(words: tuple[str, ...]) -> re.Pattern[str]:
    # Longest first, so that "love you" wins over "love" at the same place.
    alternatives = "|".join(_phrase_pattern(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![\w'])(?:{alternatives})(?![\w'])")


def _negated(lowered: str, start: int) -> bool:
    """Whether a negator stands within a few words before ``start`` (and is not "can't stop")."""
    before = WORD.findall(lowered[:start])[-NEGATION_WINDOW:]
    for i, word in enumerate(before):
        if word in NEGATORS:
            following = before[i + 1] if i + 1 < len(before) else ""
            if following not in NEGATION_BREAKERS:
                return True
    return False


@dataclass(frozen=True)
class Cues:
    """What the surface of a message says: plain hits per mood (emoji weigh double), hits that a
    negation flips, sarcasm markers, and whether the message is emoji (and punctuation) only."""

    hits: dict[Mood, float]
    negated: dict[Mood, float]
    """Cues of a mood under a negation ("not scared"); "not bad" counts for sadness."""
    sarcasm: int
    emoji_only: bool
    intensity: float
    downtoned: float = 0.0
    """0-1: how much the message hedges its feeling (DOWNTONERS)."""

    @property
    def negated_positive(self) -> float:
        return sum(self.negated[m] for m in POSITIVE_MOODS)

    @property
    def negated_negative(self) -> float:
        return sum(self.negated[m] for m in NEGATIVE_MOODS)


def read_cues(text: str) -> Cues:
    lowered = text.lower()
    hits: dict[Mood, float] = dict.fromkeys(MOOD_WORDS, 0.0)
    negated: dict[Mood, float] = dict.fromkeys(MOOD_WORDS, 0.0)
    extra = {Mood.JOY: POSITIVE_EXTRA, Mood.SADNESS: NEGATIVE_EXTRA}
    for mood, words in MOOD_WORDS.items():
        for match in _compiled(words).finditer(lowered):
            if not _negated(lowered, match.start()):
                hits[mood] += 1
            else:
                negated[mood] += 1
        # Mood-free words count only when negated: "not bad" leans positive, "not okay" negative.
        if mood in extra:
            for match in _compiled(extra[mood]).finditer(lowered):
                if _negated(lowered, match.start()):
                    negated[mood] += 1
    for token in text.split():
        if token.strip(".!?,") in SHOUTED_SLANG:
            hits[SHOUTED_SLANG[token.strip(".!?,")]] += 1
    emoji = 0
    for char in text:
        if char in EMOJI_MOODS:
            hits[EMOJI_MOODS[char]] += EMOJI_WEIGHT
            emoji += 1
    sarcasm = sum(re.search(marker, lowered) is not None for marker in SARCASM_MARKERS)
    emoji_only = emoji > 0 and not any(c.isalnum() for c in text)
    return Cues(
        hits={m: float(hits[m]) for m in MOOD_WORDS},
        negated={m: float(negated[m]) for m in MOOD_WORDS},
        sarcasm=sarcasm,
        emoji_only=emoji_only,
        intensity=intensity_score(text),
        downtoned=min(len(_compiled(DOWNTONERS).findall(lowered)), 2) / 2,
    )


def cue_scores(cues: Cues) -> dict[Mood, float]:
    """Cue hits per mood with negation and sarcasm applied (all eight moods, neutral included)."""
    scores = {mood: cues.hits.get(mood, 0.0) for mood in Mood}
    # "not happy about this" is unhappy; "not bad at all" and "not scared anymore" are relief.
    scores[Mood.SADNESS] += 0.6 * cues.negated_positive
    scores[Mood.ANGER] += 0.5 * cues.negated_positive
    scores[Mood.JOY] += 0.8 * cues.negated_negative
    if cues.sarcasm:
        # Ironic praise is annoyance: the positive hits move to anger.
        moved = scores[Mood.JOY] + scores[Mood.LOVE]
        scores[Mood.JOY] = scores[Mood.LOVE] = 0.0
        scores[Mood.ANGER] += moved + 1.5 * cues.sarcasm
    return scores


def guess_mood(text: str) -> Mood:
    """The mood with the most cue hits (emoji count double); neutral when nothing matches."""
    scores = cue_scores(read_cues(text))
    best = max(scores.values())
    if best <= 0:
        return Mood.NEUTRAL
    # Ties go to the mood declared first, so the answer is stable.
    return next(m for m in Mood if scores[m] == best)


def intensity_score(text: str) -> float:
    """0 (flat) to about 1 (shouting): exclamations, capitals, stretched letters, intensifiers, emoji."""
    letters = [c for c in text if c.isalpha()]
    caps = sum(c.isupper() for c in letters) / len(letters) if len(letters) >= 4 else 0.0
    exclaims = min(text.count("!"), 2) / 2
    stretched = min(len(STRETCHED.findall(text)), 2) / 2
    boosts = min(len(_compiled(INTENSIFIERS).findall(text.lower())), 2) / 2
    emoji = min(sum(c in EMOJI_MOODS for c in text), 2) / 2
    return min(1.0, 0.35 * exclaims + 0.3 * caps + 0.2 * stretched + 0.15 * boosts + 0.3 * emoji)


def intensity_from_score(score: float) -> Intensity:
    if score >= 0.45:
        return Intensity.HIGH
    if score >= 0.15:
        return Intensity.MEDIUM
    return Intensity.LOW


def guess_intensity(text: str) -> Intensity:
    return intensity_from_score(intensity_score(text))
