"""The one path every request takes, whatever its entry point (CLI now, Discord and voice next):

text -> moderation (before any work) -> emotion -> GenerationSpec -> engine -> frame check -> Clip,
or a typed refusal. Each message is embedded once; moderation and emotion reading share it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from reactclip.bot.refusals import FrameRefused, TextRefused
from reactclip.bot.settings import Settings
from reactclip.engine.backends import Backend, ProgressCallback, create_backend
from reactclip.engine.clip import Clip
from reactclip.engine.clipmaker import ClipMaker
from reactclip.engine.mood import Mood
from reactclip.engine.prompting import EmotionReader, EmotionReading, spec_from_text
from reactclip.engine.spec import GenerationSpec, SpecError, seed_for
from reactclip.moderation import RequestContext, TextVerdict
from reactclip.moderation.embedder import Embedder, SentenceEmbedder
from reactclip.moderation.frames import FrameModerator
from reactclip.moderation.normalize import normalize
from reactclip.moderation.text import TextModerator

log = logging.getLogger(__name__)

ANALYSIS_BATCH = 64


def hash_user(user_id: object) -> str:
    """A short stable hash of a user id for logs; the raw id is never logged."""
    return hashlib.sha256(f"reactclip-user:{user_id}".encode()).hexdigest()[:12]


@dataclass(frozen=True)
class SpecRequest:
    """What the requester chose besides the text (style, frames, size...); unset fields use the
    settings' defaults."""

    style: str | None = None
    mood: Mood | None = None
    raw_prompt: bool = False
    """Use the text as the prompt verbatim (no emotion mapping); moderation still runs."""
    seed: int | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    """GenerationSpec fields: width, height, frames, fps, steps, guidance, format."""


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


class Orchestrator:
    """Wires moderation, emotion reading and the engine together. Owns the loaded models."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        moderator: TextModerator,
        emotion: EmotionReader,
        frame_moderator: FrameModerator | None,
        backend: Backend | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.moderator = moderator
        self.emotion = emotion
        self.frame_moderator = frame_moderator
        self._backend = backend
        self._maker: ClipMaker | None = None

    @classmethod
    def from_settings(cls, settings: Settings, backend: Backend | None = None) -> Orchestrator:
        """Load the text models now; the generation backend loads on the first ``generate``."""
        embedder = SentenceEmbedder()
        moderation = settings.moderation
        return cls(
            settings,
            embedder,
            TextModerator(embedder, classifier_dir=moderation.classifier_dir),
            EmotionReader(embedder, classifier_dir=settings.engine.prompting.emotion_classifier_dir),
            FrameModerator(sample_frames=moderation.sample_frames) if moderation.frame_check else None,
            backend,
        )

    # Analysis -----------------------------------------------------------------------------------

    def analyze(self, text: str, context: RequestContext, request: SpecRequest | None = None) -> Analysis:
        return self.analyze_many([text], context, request)[0]

    def analyze_many(
        self, texts: Sequence[str], context: RequestContext, request: SpecRequest | None = None
    ) -> list[Analysis]:
        """Moderate and read many texts, embedding them in batches (for ``analyze --jsonl``)."""
        request = request or SpecRequest()
        analyses: list[Analysis] = []
        for start in range(0, len(texts), ANALYSIS_BATCH):
            chunk = list(texts[start : start + ANALYSIS_BATCH])
            embeddings = self.embedder.encode([normalize(t) or " " for t in chunk])
            for text, embedding in zip(chunk, embeddings, strict=True):
                analyses.append(self._analyze_one(text, embedding, context, request))
        return analyses

    def _analyze_one(
        self, text: str, embedding: Any, context: RequestContext, request: SpecRequest
    ) -> Analysis:
        verdict = self.moderator.check(text, context, embedding=embedding)
        reading = self.emotion.read(text, embedding=embedding)
        spec = self._spec(text, reading, request) if verdict.allowed else None
        return Analysis(text=text, verdict=verdict, reading=reading, spec=spec)

    def _spec(self, text: str, reading: EmotionReading, request: SpecRequest) -> GenerationSpec:
        prompting = self.settings.engine.prompting
        style = request.style or prompting.style
        if request.raw_prompt:
            if not text.strip():
                raise SpecError("text", "there is nothing to react to")
            return GenerationSpec(
                prompt=text.strip(),
                caption="",
                style=style,
                mood=request.mood or reading.mood,
                intensity=reading.intensity,
                seed=seed_for(f"raw\n{text}") if request.seed is None else request.seed,
                **request.fields,
            )
        return spec_from_text(
            text,
            reading=reading,
            mood=request.mood,
            style=style,
            mascot=prompting.mascot,
            seed=request.seed,
            templates_path=prompting.templates,
            **request.fields,
        )

    # Generation ---------------------------------------------------------------------------------

    def generate(
        self,
        text: str,
        context: RequestContext,
        request: SpecRequest | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Clip:
        """The whole path. Raises TextRefused before any generation, FrameRefused after it (the
        frames are dropped, never encoded or kept), SpecError for a bad request."""
        analysis = self.analyze(text, context, request)
        if analysis.spec is None:
            raise TextRefused(analysis.verdict)
        return self.generate_spec(analysis.spec, context, on_progress)

    def generate_spec(
        self, spec: GenerationSpec, context: RequestContext, on_progress: ProgressCallback | None = None
    ) -> Clip:
        """Render an already-moderated spec, check its frames, encode it."""
        maker = self.maker()
        [rendered] = maker.render([spec], on_progress)
        if self.frame_moderator is not None:
            frame_verdict = self.frame_moderator.check(rendered.frames, context)
            if not frame_verdict.allowed:
                del rendered
                raise FrameRefused(frame_verdict)
        return maker.encode(spec, rendered)

    def maker(self) -> ClipMaker:
        if self._maker is None:
            backend = self._backend or create_backend(self.settings.engine)
            self._maker = ClipMaker(backend, self.settings.engine.upload_limit_bytes)
        return self._maker

    def close(self) -> None:
        if self._maker is not None:
            self._maker.close()
            self._maker = None
