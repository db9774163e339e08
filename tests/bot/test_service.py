"""The one path (ReactionService): moderation before any work, emotion to spec, the engine, the frame
check, and the events every entry point shows."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from recording_backends import SlowBackend

from reactclip.bot.events import (
    Analysed,
    Event,
    Failed,
    Finished,
    PreviewReady,
    Progress,
    Queued,
    Refusal,
    Step,
)
from reactclip.bot.refusals import FrameRefused, TextRefused
from reactclip.bot.request import Options, Origin, Request, hash_user
from reactclip.bot.service import ReactionService
from reactclip.bot.settings import Settings
from reactclip.engine.clip import Clip
from reactclip.engine.encode import probe_video
from reactclip.engine.executor import InProcessExecutor
from reactclip.engine.mood import Mood
from reactclip.moderation import Category
from reactclip.moderation.frames import Detection, FrameModerator

pytestmark = pytest.mark.slow

NORMAL_ORIGIN = Origin("cli", hash_user(42))
NSFW_ORIGIN = Origin("cli", hash_user(42), nsfw_channel=True)
NORMAL = NORMAL_ORIGIN.context
NSFW = NSFW_ORIGIN.context


class ExplicitDetector:
    """Reports an exposed-genitalia detection on every frame: the detector's output for a clip that
    must not be posted, without keeping any such image."""

    def __init__(self) -> None:
        self.frames_seen = 0

    def detect(self, image: np.ndarray) -> list[Detection]:
        self.frames_seen += 1
        return [Detection("FEMALE_GENITALIA_EXPOSED", 0.9, (0, 0, 10, 10))]


def service(
    text_models: dict[str, Any], backend: Any, frames: FrameModerator | None = None
) -> ReactionService:
    """The real service and executor (no cache), rendering with ``backend``."""
    frames = frames or FrameModerator()
    executor = InProcessExecutor(
        lambda name: backend,
        inspect=frames.inspect,
        may_cache=lambda clip: frames.may_cache(clip.inspection),
    )
    return ReactionService(
        Settings(),
        text_models["embedder"],
        text_models["moderator"],
        text_models["emotion"],
        frames,
        executor,
    )


def generate(orch: ReactionService, text: str, origin: Origin, options: Options) -> Clip:
    async def run() -> Clip:
        try:
            return await orch.make(Request(text, origin, options))
        finally:
            await orch.aclose()

    return asyncio.run(run())


SMALL = Options(size=(320, 240), frames=8)


def test_an_allowed_message_becomes_a_clip_that_fits_its_mood(
    clean_env: Any, text_models: dict[str, Any], recording_backend: Any
) -> None:
    clip = generate(service(text_models, recording_backend), "I aced my exam!!", NORMAL_ORIGIN, SMALL)
    assert clip.spec.mood is Mood.JOY
    assert len(recording_backend.calls) == 1
    info = probe_video(clip.data, "mp4")
    assert (info.width, info.height, info.frames) == (320, 240, 8)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("make a video of her naked body", Category.SEXUAL),
        ("k.y.s nobody wants you here", Category.HARASSMENT),
    ],
)
def test_a_refused_message_never_reaches_the_engine(
    clean_env: Any, text_models: dict[str, Any], recording_backend: Any, text: str, category: Category
) -> None:
    with pytest.raises(TextRefused) as refused:
        generate(service(text_models, recording_backend), text, NORMAL_ORIGIN, SMALL)
    assert refused.value.verdict.category is category
    assert str(refused.value)  # a reason fit to show the user
    assert recording_backend.calls == []


def test_sexual_content_is_allowed_in_nsfw_channels_but_minors_never(
    clean_env: Any, text_models: dict[str, Any], recording_backend: Any
) -> None:
    orch = service(text_models, recording_backend)
    assert orch.analyze("make a video of her naked body", NSFW).verdict.allowed
    minors = orch.analyze("sexy pics of a 12 year old girl", NSFW)
    assert not minors.verdict.allowed and minors.verdict.category is Category.SEXUAL_MINORS
    assert minors.spec is None


def test_someone_supporting_a_person_who_self_harms_gets_a_caring_clip_not_a_refusal(
    clean_env: Any, text_models: dict[str, Any], recording_backend: Any
) -> None:
    orch = service(text_models, recording_backend)
    analysis = orch.analyze("my best friend has been self harming again, how do i support her?", NORMAL)
    assert analysis.verdict.allowed and analysis.verdict.supportive
    assert analysis.reading.mood is Mood.LOVE
    assert analysis.spec is not None and "hug" in analysis.spec.prompt
    own = orch.analyze("my friend says i should stop but i want to keep cutting myself", NORMAL)
    assert not own.verdict.allowed and own.verdict.category is Category.SELF_HARM


def test_a_clip_failing_the_frame_check_is_neither_encoded_nor_returned(
    clean_env: Any, text_models: dict[str, Any], recording_backend: Any
) -> None:
    detector = ExplicitDetector()
    frames = FrameModerator(detector=detector, sample_frames=4)
    with pytest.raises(FrameRefused) as refused:
        generate(service(text_models, recording_backend, frames), "a happy dancing cat", NORMAL_ORIGIN, SMALL)
    assert refused.value.verdict.category is Category.SEXUAL
    assert detector.frames_seen == 4
    assert len(recording_backend.calls) == 1
    # The same detector output in an NSFW channel lets the clip through.
    clip = generate(
        service(text_models, recording_backend, frames), "a happy dancing cat", NSFW_ORIGIN, SMALL
    )
    assert clip.data and clip.inspection


def test_cached_clips_are_judged_again_and_explicit_ones_never_cached(
    clean_env: Any, text_models: dict[str, Any]
) -> None:
    frames = FrameModerator(detector=ExplicitDetector())
    explicit = {"nudenet": [[{"label": "FEMALE_GENITALIA_EXPOSED", "score": 0.9, "box": [0, 0, 1, 1]}]]}
    clean = {"nudenet": [[{"label": "FACE_FEMALE", "score": 0.9, "box": [0, 0, 1, 1]}]]}
    assert not frames.may_cache(explicit) and frames.may_cache(clean) and not frames.may_cache({})
    assert frames.judge(explicit, NSFW).allowed and not frames.judge(explicit, NORMAL).allowed


def test_raw_prompt_skips_the_emotion_mapping_but_not_moderation(
    clean_env: Any, text_models: dict[str, Any], recording_backend: Any
) -> None:
    orch = service(text_models, recording_backend)
    raw = Options(raw_prompt=True)
    analysis = orch.analyze("a corgi surfing a huge wave, golden hour", NORMAL, raw)
    assert analysis.spec is not None
    assert analysis.spec.prompt == "a corgi surfing a huge wave, golden hour"
    assert not orch.analyze("k.y.s nobody wants you here", NORMAL, raw).verdict.allowed


def test_the_same_message_gives_the_same_spec_and_many_match_one(
    clean_env: Any, text_models: dict[str, Any], recording_backend: Any
) -> None:
    orch = service(text_models, recording_backend)
    texts = ["we won the finals!!", "ugh mondays 🙄", "my dog died", "ewww gross"]
    one_by_one = [orch.analyze(t, NORMAL) for t in texts]
    assert [a.spec for a in orch.analyzer.analyze_many(texts, NORMAL)] == [a.spec for a in one_by_one]
    assert orch.analyze(texts[0], NORMAL).spec == one_by_one[0].spec


def test_a_guild_mascot_is_the_subject_when_the_text_names_none(
    clean_env: Any, text_models: dict[str, Any], recording_backend: Any
) -> None:
    orch = service(text_models, recording_backend)
    with_mascot = orch.analyze("we won the finals!!", NORMAL, Options(mascot="a grumpy penguin")).spec
    named = orch.analyze("make a clip of a dancing cat", NORMAL, Options(mascot="a grumpy penguin")).spec
    assert with_mascot is not None and "grumpy penguin" in with_mascot.prompt.lower()
    assert named is not None and "dancing cat" in named.prompt and "penguin" not in named.prompt


def test_hearing_runs_in_a_thread_while_the_event_loop_goes_on(
    text_models: dict[str, Any], recording_backend: Any, vosk_ko_model: Any, say: Any
) -> None:
    """Decoding and recognition take seconds of CPU: other tasks on the loop keep running meanwhile."""
    from reactclip.speech.listener import Listener
    from reactclip.speech.settings import SpeechSettings

    orch = service(text_models, recording_backend)
    orch.listener = Listener(SpeechSettings(vosk_model=vosk_ko_model))
    audio = say("we won the finals, this is the best day ever")

    async def run() -> tuple[str, int]:
        turns = 0
        hearing = asyncio.create_task(orch.hear(audio))
        while not hearing.done():
            turns += 1
            await asyncio.sleep(0)
        return await hearing, turns

    text, turns = asyncio.run(run())
    assert text.strip()
    assert turns > 100  # a loop blocked by recognition would have had one or two
    assert recording_backend.calls == []  # hearing makes no clip by itself


# The events every entry point shows --------------------------------------------------------------


def events_of(orch: ReactionService, request: Request) -> list[Event]:
    async def run() -> list[Event]:
        try:
            return [event async for event in orch.handle(request)]
        finally:
            await orch.aclose()

    return asyncio.run(run())


def test_a_request_reports_its_analysis_its_progress_and_ends_with_the_clip(
    clean_env: Any, text_models: dict[str, Any], recording_backend: Any
) -> None:
    events = events_of(
        service(text_models, recording_backend), Request("I aced my exam!!", NORMAL_ORIGIN, SMALL)
    )
    assert isinstance(events[0], Analysed) and events[0].analysis.spec is not None
    assert isinstance(events[-1], Finished) and events[-1].clip.spec == events[0].analysis.spec
    progress = [event.event for event in events[1:-1] if isinstance(event, Progress)]
    assert len(progress) == len(events) - 2  # nothing else in between: no preview was asked for
    assert isinstance(progress[0], Queued)
    steps = [event for event in progress if isinstance(event, Step)]
    assert steps and steps[-1].step == steps[-1].total


def test_a_refused_request_ends_with_one_refusal_and_nothing_else(
    clean_env: Any, text_models: dict[str, Any], recording_backend: Any
) -> None:
    request = Request("k.y.s nobody wants you here", NORMAL_ORIGIN, SMALL)
    [event] = events_of(service(text_models, recording_backend), request)
    assert isinstance(event, Refusal) and isinstance(event.error, TextRefused)
    assert event.error.verdict.category is Category.HARASSMENT
    assert recording_backend.calls == []


def test_a_bad_option_fails_politely_without_reaching_the_engine(
    clean_env: Any, text_models: dict[str, Any], recording_backend: Any
) -> None:
    request = Request("I aced my exam!!", NORMAL_ORIGIN, Options(frames=99))
    [event] = events_of(service(text_models, recording_backend), request)
    assert isinstance(event, Failed) and "frames" in str(event.error)
    assert recording_backend.calls == []


def test_a_slow_clip_asked_with_a_preview_gets_the_sticker_first_and_the_clip_last(
    clean_env: Any, text_models: dict[str, Any]
) -> None:
    backend = SlowBackend(delay_s=1.5)
    request = Request("we won the finals!!", NORMAL_ORIGIN, replace(SMALL, preview_after_s=0.5))
    events = events_of(service(text_models, backend), request)
    kinds = [type(event) for event in events]
    assert kinds.count(PreviewReady) == 1 and kinds[-1] is Finished
    assert kinds.index(Analysed) < kinds.index(PreviewReady)
    preview = next(event for event in events if isinstance(event, PreviewReady))
    finished = events[-1]
    assert isinstance(finished, Finished)
    assert preview.clip.backend == "sticker" and finished.clip.backend == "slow"
    assert len(backend.calls) == 1  # the preview is drawn beside the executor, never through it


def test_a_caller_that_stops_listening_cancels_its_queued_work(
    clean_env: Any, text_models: dict[str, Any]
) -> None:
    backend = SlowBackend(delay_s=1.0)
    orch = service(text_models, backend)

    async def run() -> dict[str, int]:
        try:
            running = asyncio.create_task(orch.make(Request("we won the finals!!", NORMAL_ORIGIN, SMALL)))
            await asyncio.sleep(0.3)  # the first request is on the backend now
            async with contextlib.aclosing(
                orch.handle(Request("my dog died", NORMAL_ORIGIN, SMALL))
            ) as events:
                async for event in events:
                    if isinstance(event, Progress) and isinstance(event.event, Queued):
                        break  # queued behind the first: the caller leaves
            await running
            return orch.executor().stats().counters
        finally:
            await orch.aclose()

    counters = asyncio.run(run())
    assert counters["cancelled"] == 1
    assert len(backend.calls) == 1  # the request nobody waited for never ran
