"""What recognition hands on: the words heard, with timings and confidences, and nothing of the audio.

Raw audio never leaves ``speech/``; the rest of reactclip sees only a ``Transcript`` (privacy, and
one seam the voice-message, CLI and voice-channel paths share).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from reactclip.speech.errors import NotUnderstood


@dataclass(frozen=True)
class Word:
    """One recognised word: start and end in seconds from the start of the audio, confidence in [0, 1]."""

    text: str
    start: float
    end: float
    confidence: float


@dataclass(frozen=True)
class Transcript:
    """The words of one utterance or file, in order, and how long the audio was."""

    words: tuple[Word, ...] = field(default_factory=tuple)
    duration_s: float = 0.0

    @property
    def text(self) -> str:
        return " ".join(word.text for word in self.words)

    @property
    def confidence(self) -> float:
        """Mean word confidence; 0 with no words (nothing was made out)."""
        if not self.words:
            return 0.0
        return sum(word.confidence for word in self.words) / len(self.words)

    def heard(self, min_confidence: float) -> str:
        """The text to react to; NotUnderstood when there are no words or they are too unsure.
        Voice messages, audio files and voice channels all decide this here."""
        if not self.words or self.confidence < min_confidence:
            raise NotUnderstood()
        return self.text

    def to_record(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "confidence": round(self.confidence, 4),
            "duration_s": round(self.duration_s, 3),
            "words": [asdict(word) for word in self.words],
        }
