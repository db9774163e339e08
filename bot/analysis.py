"""Everything decided about a message before any generation: the moderation verdict (before any
work), the emotion reading and the GenerationSpec they lead to.

Each message is encoded once; moderation and emotion reading share the encoding (their heads start
from the same layer of the same MiniLM).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from reactclip.bot.request import Options
from reactclip.bot.settings import Settings
from reactclip.engine.mood import Intensity, Mood
from reactclip.engine.prompting import EmotionReader, EmotionReading, spec_from_text
from reactclip.engine.spec import GenerationSpec, SpecError, seed_for
from reactclip.moderation import RequestContext, TextVerdict
from reactclip.moderation.text import TextModerator
from reactclip.textmodel.embedder import Embedder, Encoded
from reactclip.textmodel.normalize import normalize

ANALYSIS_BATCH = 64
"""Texts encoded in one call by ``analyze_many`` (``analyze --jsonl``)."""


@dataclass(frozen=True)
class Analysis:
    """Everything decided before generation. ``spec`` is None when the request is refused."""

    text: str
    verdict: TextVerdict
    reading: EmotionReading
    spec: GenerationSpec | None

    def to_dict(self) -> dict[str, Any]:
        spec = self.spec
        return {
            "text": self.text,
            "emotion": self.reading.mood.value,
            "intensity": self.reading.intensity.value,
            "emotion_confidence": round(self.reading.confidence, 3),
            "allowed": self.verdict.allowed,
            "category": self.verdict.category.value,
            "confidence": round(self.verdict.confidence, 3),
            "layer": self.verdict.layer,
            "reason": self.verdict.reason,
            "prompt": spec.prompt if spec else None,
            "negative_prompt": spec.negative_prompt if spec else None,
            "style": spec.style if spec else None,
            "seed": spec.seed if spec else None,
        }


class Analyzer:
    """Owns the loaded text models and turns a text, under a request's context, into an Analysis."""

    def __init__(
        self, settings: Settings, embedder: Embedder, moderator: TextModerator, emotion: EmotionReader
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.moderator = moderator
        self.emotion = emotion

    @property
    def state_layer(self) -> int:
        """The layer the moderation and emotion heads start from (one encoding serves both); any
        layer will do where neither has a head (the lexicon and the cues then decide)."""
        layers = {
            layer for layer in (self.moderator.state_layer, self.emotion.state_layer) if layer is not None
        }
        if len(layers) > 1:
            raise ValueError(
                f"the moderation and emotion heads start from different layers: {sorted(layers)}"
            )
        return layers.pop() if layers else 0

    def warm_up(self) -> None:
        """The first encoding exports MiniLM's ONNX graph when the cache lacks it (seconds): at
        start, not in the first user's request."""
        self.embedder.encode_states([" "], self.state_layer)

    def analyze(self, text: str, context: RequestContext, options: Options | None = None) -> Analysis:
        return self.analyze_many([text], context, options)[0]

    def analyze_many(
        self, texts: Sequence[str], context: RequestContext, options: Options | None = None
    ) -> list[Analysis]:
        """Moderate and read many texts, encoding them in batches."""
        options = options or Options()
        analyses: list[Analysis] = []
        for start in range(0, len(texts), ANALYSIS_BATCH):
            chunk = list(texts[start : start + ANALYSIS_BATCH])
            encoded = self.embedder.encode_states([normalize(t) or " " for t in chunk], self.state_layer)
            for row, text in enumerate(chunk):
                analyses.append(self._analyze_one(text, encoded.take([row]), context, options))
        return analyses

    def _analyze_one(
        self, text: str, encoded: Encoded, context: RequestContext, options: Options
    ) -> Analysis:
        verdict = self.moderator.check(text, context, encoded=encoded)
        reading = self.emotion.read(text, encoded=encoded)
        if verdict.supportive:
            # Someone asking how to help a person who struggles: answer with care (a hug), never
            # with the distress their words describe.
            reading = replace(reading, mood=Mood.LOVE, intensity=Intensity.MEDIUM)
        spec = self._spec(text, reading, options) if verdict.allowed else None
        return Analysis(text=text, verdict=verdict, reading=reading, spec=spec)

    def _spec(self, text: str, reading: EmotionReading, options: Options) -> GenerationSpec:
        prompting = self.settings.engine.prompting
        style = options.style or prompting.style
        if options.raw_prompt:
            if not text.strip():
                raise SpecError("text", "there is nothing to react to")
            return GenerationSpec(
                prompt=text.strip(),
                caption="",
                style=style,
                mood=options.mood or reading.mood,
                intensity=reading.intensity,
                seed=seed_for(f"raw\n{text}") if options.seed is None else options.seed,
                **options.spec_fields(),
            )
        return spec_from_text(
            text,
            reading=reading,
            mood=options.mood,
            style=style,
            mascot=options.mascot or prompting.mascot,
            seed=options.seed,
            templates_path=prompting.templates,
            **options.spec_fields(),
        )
