"""ReactionService: the one way into the pipeline, whatever the entry point (CLI, Discord, voice).

(audio -> speech ->) text -> moderation (before any work) -> emotion -> GenerationSpec -> executor
(cache, queue, engine, frame inspection) -> the frame verdict under this request's policy -> Clip,
or a typed refusal.

``handle(request)`` yields the request's events (events.py) as they happen; an entry point only
builds the Request and shows the events. Where the clip will take a while and the request asks for
it, a sticker version is drawn at once and reported before the clip (PreviewReady).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import logging
from collections.abc import AsyncGenerator, Callable
from pathlib import Path
from typing import Any

from reactclip.bot.analysis import Analysis, Analyzer
from reactclip.bot.events import (
    Analysed,
    Event,
    Failed,
    Final,
    Finished,
    Heard,
    PreviewReady,
    Progress,
    Refusal,
)
from reactclip.bot.metrics import RequestMetrics, outcome_of
from reactclip.bot.refusals import FrameRefused, Refused, TextRefused
from reactclip.bot.request import Options, Request
from reactclip.bot.settings import Settings
from reactclip.engine.backends.sticker import StickerBackend
from reactclip.engine.clip import Clip
from reactclip.engine.clipmaker import ClipMaker
from reactclip.engine.executor import Executor, ProgressEvent
from reactclip.engine.prompting import EmotionReader
from reactclip.engine.request_id import REQUEST_ID
from reactclip.engine.service import build_executor
from reactclip.engine.spec import GenerationSpec
from reactclip.moderation import RequestContext
from reactclip.moderation.frames import FrameModerator
from reactclip.moderation.text import TextModerator
from reactclip.speech.listener import Listener
from reactclip.speech.recognize import VoskTranscriber
from reactclip.textmodel.embedder import Embedder, load_embedder

log = logging.getLogger(__name__)

PREVIEW_BACKEND = "sticker"
"""The renderer of previews: it draws a clip on the CPU in a fraction of a second."""
HIGH_QUALITY_UNAVAILABLE = (
    "high quality needs the Wan model on a GPU, and this server draws stickers: this is the normal clip"
)


def frame_hooks(frames: FrameModerator | None) -> dict[str, Any]:
    """The executor's (or a worker's) frame hooks: inspect every clip's frames before encoding, and
    cache only what the strictest policy would post."""
    if frames is None:
        return {"inspect": None, "may_cache": None}
    return {"inspect": frames.inspect, "may_cache": lambda clip: frames.may_cache(clip.inspection)}


def _log_outcome(request: Request, final: Event) -> None:
    """One debug line per answered request (its id comes with the record). Entry points log the
    outcome for operators in their own words (Discord: with the guild; the CLI prints it), and a
    real failure's traceback once, where it is handled."""
    if isinstance(final, Finished):
        clip = final.clip
        hit = "from the cache" if clip.cache_hit else f"in {clip.timings.rendering:.2f} s"
        log.debug("%r: clip by %s (%s) %s", request, clip.backend, clip.variant, hit)
    elif isinstance(final, Refusal):
        log.debug("%r: refused (%s)", request, final.error.category)
    elif isinstance(final, Failed):
        log.debug("%r: %s: %s: %s", request, outcome_of(final.error), type(final.error).__name__, final.error)


class ReactionService:
    """Owns the loaded models, the listener and the executor; answers Requests."""

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
        self.analyzer = Analyzer(settings, embedder, moderator, emotion)
        self.listener = Listener(settings.speech, transcriber)
        """Speech to text; its Vosk model loads on the first audio."""
        self.frame_moderator = frame_moderator
        self._executor = executor
        self._preview_maker: ClipMaker | None = None

    @classmethod
    def from_settings(cls, settings: Settings, executor: Executor | None = None) -> ReactionService:
        """Load the text models now; the executor (and its backend) starts on the first request."""
        moderation = settings.moderation
        embedder = load_embedder(moderation)
        service = cls(
            settings,
            embedder,
            TextModerator(embedder, classifier_dir=moderation.classifier_dir),
            EmotionReader(embedder, classifier_dir=settings.engine.prompting.emotion_classifier_dir),
            FrameModerator(sample_frames=moderation.sample_frames) if moderation.frame_check else None,
            executor,
        )
        service.analyzer.warm_up()
        return service

    # Analysis only ------------------------------------------------------------------------------

    def analyze(self, text: str, context: RequestContext, options: Options | None = None) -> Analysis:
        """The verdict, reading and spec of ``text``, generating nothing (``reactclip analyze``,
        a guild's mascot check)."""
        return self.analyzer.analyze(text, context, options)

    # The path -----------------------------------------------------------------------------------

    async def handle(self, request: Request) -> AsyncGenerator[Event, None]:
        """The request's events, ending with Finished, Refusal or Failed. Leaving the iteration
        early (the caller was cancelled) cancels the request's work."""
        events: asyncio.Queue[Event] = asyncio.Queue()
        context = contextvars.copy_context()
        context.run(REQUEST_ID.set, request.id)  # the work's log lines (and its worker's) name it
        task = asyncio.create_task(self._run(request, events.put_nowait), context=context)
        metrics = RequestMetrics(request)
        try:
            while True:
                event = await events.get()
                metrics.observe(event)
                yield event
                if isinstance(event, Final):
                    return
        finally:
            metrics.finish()
            if not task.done():
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def make(self, request: Request, on_event: Callable[[Event], None] | None = None) -> Clip:
        """``handle`` for callers that want the clip or an exception: raises the Refused or the
        error that ended the request."""
        async for event in self.handle(request):
            if on_event is not None:
                on_event(event)
            if isinstance(event, Finished):
                return event.clip
            if isinstance(event, Refusal | Failed):
                raise event.error
        raise RuntimeError("the request ended without an answer")  # handle always ends with one

    async def _run(self, request: Request, emit: Callable[[Event], None]) -> None:
        preview: asyncio.Task[None] | None = None
        try:
            text = request.said
            if not isinstance(text, str):
                text = await self.hear(text)
                emit(Heard(text))
            context = request.origin.context
            options, note = await self._quality(request.options)
            analysis = await asyncio.to_thread(self.analyzer.analyze, text, context, options)
            if analysis.spec is None:
                raise TextRefused(analysis.verdict)
            emit(Analysed(analysis))
            spec = analysis.spec
            if self._preview_wanted(options, spec):
                preview = asyncio.create_task(self._preview(spec, emit))
            clip = await self._render(request, spec, emit)
            verdict = None
            if self.frame_moderator is not None:
                verdict = self.frame_moderator.judge(clip.inspection, context)
                if not verdict.allowed:
                    raise FrameRefused(verdict)
            final: Event = Finished(clip, verdict, note)
        except Refused as refused:
            final = Refusal(refused)
        except Exception as error:
            final = Failed(error)
        finally:
            if preview is not None and not preview.done():
                preview.cancel()  # a sticker never lands after the answer
        _log_outcome(request, final)
        emit(final)

    async def _render(self, request: Request, spec: GenerationSpec, emit: Callable[[Event], None]) -> Clip:
        def progress(event: ProgressEvent) -> None:
            emit(Progress(event))

        origin = request.origin
        handle = await self.executor().submit(
            spec, request.queue_priority, guild=origin.queue_group, user=origin.user_hash, on_event=progress
        )
        try:
            return await handle
        except asyncio.CancelledError:
            handle.cancel()  # nobody waits for it any more: free its place in the queue
            raise

    async def _quality(self, options: Options) -> tuple[Options, str | None]:
        """The options to make: a high-quality preview where the renderer denoises; the normal
        clip, and a note saying so, where only the sticker renderer runs (it has no steps to add,
        and must not pretend)."""
        if options.quality != "high" or await self.executor().renderer_name() != PREVIEW_BACKEND:
            return options, None
        return dataclasses.replace(options, quality="normal"), HIGH_QUALITY_UNAVAILABLE

    # Previews -----------------------------------------------------------------------------------

    def _preview_wanted(self, options: Options, spec: GenerationSpec) -> bool:
        """A sticker first when the request asks for one, the engine does not draw stickers already,
        and the clip is expected later than the request's ``preview_after_s`` (or the backend's
        speed is not known yet, as before its first clip). The estimate is the executor's own."""
        if options.preview_after_s is None or self.settings.engine.backend == PREVIEW_BACKEND:
            return False
        wait_s = self.executor().expected_wait_s(spec)
        return wait_s is None or wait_s > options.preview_after_s

    async def _preview(self, spec: GenerationSpec, emit: Callable[[Event], None]) -> None:
        """``spec`` drawn by the sticker renderer in a thread (~0.3-0.5 s on a CPU). No frame check:
        a sticker is a drawn face and the caption of text that passed moderation. A preview that
        fails is skipped; only the clip matters."""
        if self._preview_maker is None:
            self._preview_maker = ClipMaker(StickerBackend(), self.settings.engine.upload_limit_bytes)
        try:
            sticker = await asyncio.to_thread(self._preview_maker.make, spec)
        except Exception as exc:
            log.info("no preview: %s: %s", type(exc).__name__, exc)
            return
        emit(PreviewReady(sticker))

    # Speech and the executor --------------------------------------------------------------------

    async def hear(self, audio: bytes | Path) -> str:
        """The words of a recording. Decoding and recognition run in a thread: they are CPU-bound
        and the loop must not stall. Raises AudioError for unusable audio and NotUnderstood when
        nothing was made out."""
        return await asyncio.to_thread(self.listener.hear, audio)

    def executor(self) -> Executor:
        """The executor, built on first use (inside the running event loop)."""
        if self._executor is None:
            self._executor = build_executor(self.settings.engine, **frame_hooks(self.frame_moderator))
        return self._executor

    async def aclose(self, drain: bool = True) -> None:
        """Finish queued work (or, not ``drain``ing, drop it) and release the backends."""
        if self._executor is not None:
            await self._executor.shutdown(drain=drain)
            self._executor = None
