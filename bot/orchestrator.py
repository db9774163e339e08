"""The one path every request takes, whatever its entry point (CLI, Discord, voice):

(audio -> speech ->) text -> moderation (before any work) -> emotion -> GenerationSpec -> executor
(cache, queue, engine, frame inspection) -> the frame verdict under this request's policy -> Clip, or
a typed refusal.
Each message is embedded once; moderation and emotion reading share it.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from reactclip.bot.refusals import FrameRefused, TextRefused
from reactclip.bot.settings import Settings
from reactclip.engine.backends.sticker import StickerBackend
from reactclip.engine.clip import Clip
from reactclip.engine.clipmaker import ClipMaker
from reactclip.engine.executor import (
    EventCallback,
    Executor,
    InProcessExecutor,
    Priority,
    ProgressEvent,
    Started,
)
from reactclip.engine.mood import Intensity, Mood
from reactclip.engine.prompting import EmotionReader, EmotionReading, spec_from_text
from reactclip.engine.service import build_executor
from reactclip.engine.spec import GenerationSpec, SpecError, seed_for
from reactclip.moderation import RequestContext, TextVerdict
from reactclip.moderation.embedder import Embedder, Encoded, load_embedder
from reactclip.moderation.frames import FrameModerator
from reactclip.moderation.normalize import normalize
from reactclip.moderation.text import TextModerator
from reactclip.speech.listener import Listener
from reactclip.speech.recognize import VoskTranscriber

ANALYSIS_BATCH = 64
PREVIEW_BACKEND = "sticker"
"""The renderer of previews: it draws a clip on the CPU in a fraction of a second."""
STICKER_RENDER_S = 0.5
"""What a sticker clip takes, assumed before one has been timed here."""
RENDER_SMOOTHING = 0.3
"""Weight of the newest timing in the moving average of render times."""


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
    mascot: str | None = None
    """The guild's mascot: the subject when the text names none (default: the settings')."""
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


def frame_hooks(frames: FrameModerator | None) -> dict[str, Any]:
    """The executor's (or a worker's) frame hooks: inspect every clip's frames before encoding, and
    cache only what the strictest policy would post."""
    if frames is None:
        return {"inspect": None, "may_cache": None}
    return {"inspect": frames.inspect, "may_cache": lambda clip: frames.may_cache(clip.inspection)}


class Orchestrator:
    """Wires moderation, emotion reading and the engine together. Owns the loaded models."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        moderator: TextModerator,
        emotion: EmotionReader,
        frame_moderator: FrameModerator | None,
        executor: Executor | None = None,
        transcriber: VoskTranscriber | None = None,
    ) -> None:
        self.settings = settings
        self.listener = Listener(settings.speech, transcriber)
        """Speech to text; its Vosk model loads on the first audio."""
        self.embedder = embedder
        self.moderator = moderator
        self.emotion = emotion
        self.frame_moderator = frame_moderator
        self._executor = executor
        self._preview_maker: ClipMaker | None = None
        self._render_s: float | None = None
        """Moving average of seconds from a generated clip's start on the engine to its clip."""
        self._last_backend: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings, executor: Executor | None = None) -> Orchestrator:
        """Load the text models now; the executor (and its backend) starts on the first ``generate``."""
        moderation = settings.moderation
        embedder = load_embedder(moderation)
        orchestrator = cls(
            settings,
            embedder,
            TextModerator(embedder, classifier_dir=moderation.classifier_dir),
            EmotionReader(embedder, classifier_dir=settings.engine.prompting.emotion_classifier_dir),
            FrameModerator(sample_frames=moderation.sample_frames) if moderation.frame_check else None,
            executor,
        )
        # The first encoding exports MiniLM's ONNX graph when the cache lacks it (seconds): here,
        # not in the first user's request.
        embedder.encode_states([" "], orchestrator._state_layer)
        return orchestrator

    # Analysis -----------------------------------------------------------------------------------

    @property
    def _state_layer(self) -> int:
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
            encoded = self.embedder.encode_states([normalize(t) or " " for t in chunk], self._state_layer)
            for row, text in enumerate(chunk):
                analyses.append(self._analyze_one(text, encoded.take([row]), context, request))
        return analyses

    def _analyze_one(
        self, text: str, encoded: Encoded, context: RequestContext, request: SpecRequest
    ) -> Analysis:
        verdict = self.moderator.check(text, context, encoded=encoded)
        reading = self.emotion.read(text, encoded=encoded)
        if verdict.supportive:
            # Someone asking how to help a person who struggles: answer with care (a hug), never
            # with the distress their words describe.
            reading = replace(reading, mood=Mood.LOVE, intensity=Intensity.MEDIUM)
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
            mascot=request.mascot or prompting.mascot,
            seed=request.seed,
            templates_path=prompting.templates,
            **request.fields,
        )

    # Speech -------------------------------------------------------------------------------------

    async def hear(self, audio: bytes | Path) -> str:
        """The words of a voice message or audio file, to go down the same path as typed text.
        Decoding and recognition run in a thread: they are CPU-bound and the loop must not stall.
        Raises AudioError for unusable audio and NotUnderstood when nothing was made out."""
        return await asyncio.to_thread(self.listener.hear, audio)

    # Generation ---------------------------------------------------------------------------------

    async def generate(
        self,
        text: str,
        context: RequestContext,
        request: SpecRequest | None = None,
        *,
        priority: Priority = Priority.INTERACTIVE,
        guild: str | None = None,
        user: str = "anonymous",
        on_event: EventCallback | None = None,
        on_spec: Callable[[GenerationSpec], None] | None = None,
    ) -> Clip:
        """The whole path. Raises TextRefused before any generation, FrameRefused after it (the clip
        is neither returned nor cached), SpecError for a bad request, Busy when the queue is full.
        ``on_spec`` gets the spec once the text has passed moderation, before it is submitted (the
        Discord cog starts its sticker preview there)."""
        analysis = await asyncio.to_thread(self.analyze, text, context, request)
        if analysis.spec is None:
            raise TextRefused(analysis.verdict)
        if on_spec is not None:
            on_spec(analysis.spec)
        started: list[float] = []

        def events(event: ProgressEvent) -> None:
            if isinstance(event, Started) and not started:
                started.append(time.monotonic())
            if on_event is not None:
                on_event(event)

        handle = await self.executor().submit(
            analysis.spec, priority, guild=guild, user=user, on_event=events
        )
        clip = await handle
        if started and not clip.cache_hit:
            self._observe_render(clip.backend, time.monotonic() - started[0])
        if self.frame_moderator is not None:
            verdict = self.frame_moderator.judge(clip.inspection, context)
            if not verdict.allowed:
                raise FrameRefused(verdict)
        return clip

    # Previews -----------------------------------------------------------------------------------

    async def preview(self, spec: GenerationSpec) -> Clip:
        """``spec`` drawn by the sticker renderer, in a thread (~0.3-0.5 s on a CPU): an instant
        first answer while the real clip is made. Only for a spec ``generate`` passed to
        ``on_spec``; no frame check, since a sticker is a drawn face and the caption of text that
        passed moderation."""
        if self._preview_maker is None:
            self._preview_maker = ClipMaker(StickerBackend(), self.settings.engine.upload_limit_bytes)
        return await asyncio.to_thread(self._preview_maker.make, spec)

    def backend_in_use(self) -> str:
        """The backend that made the last generated clip; before any, the configured one (which
        may be "auto", not yet resolved)."""
        return self._last_backend or self.settings.engine.backend

    def expected_wait_s(self) -> float | None:
        """Roughly how long a new interactive request waits for its clip; None when unknown.

        The rule, kept simple: the work queued ahead of it plus its own render time. Its render
        time is the moving average of what generated clips took here (start to clip); before any
        clip, a configured sticker is assumed fast and anything else (a model, or "auto") unknown.
        The work ahead is the in-process executor's own estimate (queued interactive work plus
        what it waits of the running call, from its calibrated cost model);
        for another executor, the interactive jobs it reports queued times the render time.
        """
        render_s = self._render_s
        if render_s is None:
            if self.settings.engine.backend != PREVIEW_BACKEND:
                return None
            render_s = STICKER_RENDER_S
        executor = self.executor()
        if isinstance(executor, InProcessExecutor):
            ahead_s = executor.wait_ahead()
        else:
            ahead_s = executor.stats().queued.get(Priority.INTERACTIVE.value, 0) * render_s
        return ahead_s + render_s

    def _observe_render(self, backend: str, seconds: float) -> None:
        old = self._render_s if backend == self._last_backend else None  # a failover starts afresh
        self._render_s = seconds if old is None else (1 - RENDER_SMOOTHING) * old + RENDER_SMOOTHING * seconds
        self._last_backend = backend

    def executor(self) -> Executor:
        """The executor, built on first use (inside the running event loop)."""
        if self._executor is None:
            self._executor = build_executor(self.settings.engine, **frame_hooks(self.frame_moderator))
        return self._executor

    async def aclose(self) -> None:
        """Finish queued work and release the backends."""
        if self._executor is not None:
            await self._executor.shutdown(drain=True)
            self._executor = None
