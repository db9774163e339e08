"""The frame check: safe frames pass the real detector; explicit detections block through the
policy (on constructed detector outputs, so no explicit image is kept here); sampling; bad input."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from reactclip.moderation.categories import Category
from reactclip.moderation.context import GuildPolicy, RequestContext
from reactclip.moderation.frames import (
    BLOCKED_REASON,
    EXPLICIT_LABELS,
    NON_BLOCKING_LABELS,
    Detection,
    FrameModerator,
    NudeNetDetector,
    judge_detections,
    sample_frame_indices,
    shared_detector,
)

WIDTH, HEIGHT = 832, 480

NORMAL = RequestContext(user_hash="u1")
NSFW = RequestContext(nsfw_channel=True, user_hash="u1")
DM = RequestContext(nsfw_channel=True, is_dm=True, user_hash="u1")
NSFW_OFF_BY_GUILD = RequestContext(nsfw_channel=True, guild=GuildPolicy(allow_nsfw_channels=False))
STRICT = RequestContext(guild=GuildPolicy(strictness="strict"))
BOX = (100, 80, 60, 60)


def gradient(width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    frame = np.stack([60 + 150 * x + 0 * y, 90 + 120 * y + 0 * x, 200 - 100 * x * y], axis=-1)
    return frame.astype(np.uint8)


def smiley_on_gradient() -> np.ndarray:
    image = Image.fromarray(gradient())
    draw = ImageDraw.Draw(image)
    cx, cy, r = WIDTH // 2, HEIGHT // 2, 150
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(255, 221, 0), outline=(40, 30, 0), width=8)
    for dx in (-55, 55):
        draw.ellipse((cx + dx - 18, cy - 70, cx + dx + 18, cy - 20), fill=(40, 30, 0))
    draw.arc((cx - 90, cy - 60, cx + 90, cy + 100), start=20, end=160, fill=(40, 30, 0), width=10)
    return np.asarray(image)


def landscape_photo() -> np.ndarray:
    """Photo-like: sky, sun, hills, a tree and a house, blurred, with sensor noise."""
    image = Image.fromarray(gradient())
    draw = ImageDraw.Draw(image)
    draw.ellipse((620, 40, 720, 140), fill=(255, 240, 190))
    draw.polygon(
        [(0, 330), (200, 250), (420, 320), (640, 240), (832, 300), (832, 480), (0, 480)], (70, 130, 60)
    )
    draw.rectangle((150, 260, 170, 360), fill=(90, 60, 30))
    draw.ellipse((110, 180, 210, 290), fill=(40, 100, 40))
    draw.rectangle((480, 300, 600, 390), fill=(190, 170, 150))
    draw.polygon([(470, 300), (540, 240), (610, 300)], fill=(140, 50, 40))
    draw.rectangle((525, 340, 555, 390), fill=(80, 50, 30))
    blurred = np.asarray(image.filter(ImageFilter.GaussianBlur(2)), dtype=np.int16)
    noise = np.random.default_rng(0).normal(0, 6, blurred.shape).astype(np.int16)
    return np.clip(blurred + noise, 0, 255).astype(np.uint8)


class RecordingDetector:
    """Wraps a detector (or answers with fixed detections) and records every frame it sees."""

    def __init__(self, inner: NudeNetDetector | None = None, answer: list[Detection] | None = None) -> None:
        self.inner = inner
        self.answer = answer or []
        self.seen: list[np.ndarray] = []
        self.results: list[list[Detection]] = []

    def detect(self, image: np.ndarray) -> list[Detection]:
        self.seen.append(image.copy())
        result = self.inner.detect(image) if self.inner is not None else list(self.answer)
        self.results.append(result)
        return result


def numbered_clip(num_frames: int) -> np.ndarray:
    """A small clip whose every frame is filled with its own index, so a frame says which it is."""
    return np.broadcast_to(
        np.arange(num_frames, dtype=np.uint8)[:, None, None, None], (num_frames, 8, 8, 3)
    ).copy()


# --- the real detector on safe frames ---


def test_the_detector_vocabulary_is_fully_mapped() -> None:
    import nudenet.nudenet

    labels = set(vars(nudenet.nudenet)["__labels"])
    assert set(EXPLICIT_LABELS) | NON_BLOCKING_LABELS == labels
    assert not set(EXPLICIT_LABELS) & NON_BLOCKING_LABELS


@pytest.mark.parametrize("make_frame", [gradient, smiley_on_gradient, landscape_photo])
def test_a_safe_frame_has_no_exposed_detections(make_frame: Callable[[], np.ndarray]) -> None:
    detections = shared_detector().detect(make_frame())
    assert not [d for d in detections if d.label.endswith("_EXPOSED")], detections


def test_a_safe_clip_passes_the_real_detector_everywhere() -> None:
    clip = np.stack([gradient(), smiley_on_gradient(), landscape_photo()] * 3)  # 9 frames, like Wan
    recorder = RecordingDetector(inner=shared_detector())
    moderator = FrameModerator(detector=recorder)
    for context in (NORMAL, STRICT, DM):
        verdict = moderator.check(clip, context)
        assert verdict.allowed and verdict.category is Category.NONE, verdict
        assert verdict.frames_checked == 4 and verdict.reason == ""
        assert 0.0 <= verdict.confidence <= 1.0


def test_the_default_moderator_shares_one_lazily_loaded_detector() -> None:
    assert FrameModerator().detector is FrameModerator().detector is shared_detector()
    verdict = FrameModerator().check(np.stack([gradient()] * 2), NORMAL)
    assert verdict.allowed and verdict.frames_checked == 2


def test_the_model_loads_once_when_threads_race_for_it(monkeypatch: pytest.MonkeyPatch) -> None:
    detector = NudeNetDetector()
    loads: list[int] = []
    real_load = NudeNetDetector._load

    def slow_counted_load(self: NudeNetDetector) -> Any:
        loads.append(threading.get_ident())
        time.sleep(0.05)  # hold the window open so the other threads arrive while loading
        return real_load(self)

    monkeypatch.setattr(NudeNetDetector, "_load", slow_counted_load)
    barrier = threading.Barrier(8)
    results: list[list[Detection]] = []

    def first_call() -> None:
        barrier.wait()
        results.append(detector.detect(gradient(64, 48)))

    threads = [threading.Thread(target=first_call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1 and len(results) == 8


# --- the blocking path, through the policy ---


def explicit(label: str = "FEMALE_GENITALIA_EXPOSED", score: float = 0.8) -> list[list[Detection]]:
    return [[], [Detection("FACE_FEMALE", 0.9, BOX), Detection(label, score, BOX)], []]


@pytest.mark.parametrize("label", sorted(EXPLICIT_LABELS))
def test_explicit_exposure_is_blocked_in_a_normal_channel(label: str) -> None:
    verdict = judge_detections(explicit(label), NORMAL)
    assert not verdict.allowed
    assert verdict.category is Category.SEXUAL
    assert verdict.confidence == pytest.approx(0.8)
    assert verdict.reason == BLOCKED_REASON
    assert verdict.frames_checked == 3


def test_explicit_exposure_is_allowed_in_an_nsfw_channel() -> None:
    verdict = judge_detections(explicit(), NSFW)
    assert verdict.allowed and verdict.category is Category.SEXUAL and verdict.reason == ""


def test_explicit_exposure_is_blocked_in_a_dm() -> None:
    assert not judge_detections(explicit(), DM).allowed


def test_explicit_exposure_is_blocked_where_the_guild_turned_nsfw_channels_off() -> None:
    assert not judge_detections(explicit(), NSFW_OFF_BY_GUILD).allowed


@pytest.mark.parametrize("label", sorted(NON_BLOCKING_LABELS))
def test_covered_and_face_classes_never_block(label: str) -> None:
    verdict = judge_detections([[Detection(label, 0.99, BOX)]], STRICT)
    assert verdict.allowed and verdict.category is Category.NONE and verdict.confidence == 1.0


def test_scores_below_the_threshold_do_not_block() -> None:
    rule = EXPLICIT_LABELS["FEMALE_BREAST_EXPOSED"]
    verdict = judge_detections(explicit("FEMALE_BREAST_EXPOSED", rule.standard - 0.01), NORMAL)
    assert verdict.allowed and verdict.category is Category.NONE
    assert verdict.confidence == pytest.approx(1 - (rule.standard - 0.01))


def test_a_strict_guild_blocks_at_a_score_a_standard_guild_allows() -> None:
    for label, rule in EXPLICIT_LABELS.items():
        assert rule.strict < rule.standard
        score = (rule.strict + rule.standard) / 2
        assert judge_detections(explicit(label, score), NORMAL).allowed
        assert not judge_detections(explicit(label, score), STRICT).allowed


def test_the_best_explicit_score_across_frames_is_the_confidence() -> None:
    frames = [
        [Detection("BUTTOCKS_EXPOSED", 0.6, BOX)],
        [Detection("MALE_GENITALIA_EXPOSED", 0.9, BOX)],
        [Detection("ANUS_EXPOSED", 0.2, BOX)],
    ]
    verdict = judge_detections(frames, NORMAL)
    assert not verdict.allowed and verdict.confidence == pytest.approx(0.9)


def test_a_blocked_clip_is_logged_with_category_confidence_and_user(caplog: pytest.LogCaptureFixture) -> None:
    moderator = FrameModerator(detector=RecordingDetector(answer=[Detection("ANUS_EXPOSED", 0.77, BOX)]))
    with caplog.at_level(logging.INFO, logger="reactclip.moderation"):
        verdict = moderator.check(numbered_clip(8), RequestContext(user_hash="abc123"))
        moderator.check(numbered_clip(8), RequestContext(nsfw_channel=True, user_hash="allowed-user"))
    assert not verdict.allowed and verdict.frames_checked == 4
    [record] = [r for r in caplog.records if r.name == "reactclip.moderation"]
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert "category=sexual" in message and "confidence=0.77" in message and "user=abc123" in message


# --- sampling ---


@pytest.mark.parametrize(
    ("num_frames", "expected"),
    [
        (8, [0, 2, 4, 6]),
        (16, [0, 4, 8, 12]),
        (1, [0]),
        (9, [0, 2, 4, 6]),
        (17, [0, 4, 8, 12]),
        (3, [0, 1, 2]),
    ],
)
def test_four_evenly_spaced_samples_include_the_first_and_middle_frame(
    num_frames: int, expected: list[int]
) -> None:
    assert sample_frame_indices(num_frames, 4) == expected


def test_an_odd_sample_count_still_includes_the_middle_frame() -> None:
    assert sample_frame_indices(8, 3) == [0, 2, 4, 5]
    assert sample_frame_indices(8, 1) == [0, 4]


@pytest.mark.parametrize("num_frames", [8, 16, 1])
def test_the_detector_sees_exactly_the_sampled_frames(num_frames: int) -> None:
    clip = numbered_clip(num_frames)
    recorder = RecordingDetector()
    verdict = FrameModerator(detector=recorder).check(clip, NORMAL)
    assert [int(frame[0, 0, 0]) for frame in recorder.seen] == sample_frame_indices(num_frames, 4)
    assert all(frame.shape == (8, 8, 3) and frame.dtype == np.uint8 for frame in recorder.seen)
    assert verdict.frames_checked == len(recorder.seen)


def test_the_real_detector_sees_the_sampled_frames_unchanged() -> None:
    clip = np.stack([gradient(), smiley_on_gradient(), landscape_photo(), gradient()[::-1].copy()] * 2)
    recorder = RecordingDetector(inner=shared_detector())
    verdict = FrameModerator(detector=recorder).check(clip, NORMAL)
    assert verdict.allowed and verdict.frames_checked == 4 == len(recorder.results)
    for seen, index in zip(recorder.seen, [0, 2, 4, 6], strict=True):
        np.testing.assert_array_equal(seen, clip[index])


# --- bad input ---


@pytest.mark.parametrize(
    ("frames", "problem"),
    [
        (np.zeros((4, 8, 8, 3), np.float32), "dtype uint8"),
        (np.zeros((8, 8, 3), np.uint8), "shape"),
        (np.zeros((4, 8, 8, 4), np.uint8), "shape"),
        (np.zeros((0, 8, 8, 3), np.uint8), "at least one"),
        ([[0]], "numpy array"),
    ],
)
def test_bad_frames_raise_a_value_error_naming_the_problem(frames: np.ndarray, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        FrameModerator(detector=RecordingDetector()).check(frames, NORMAL)


def test_a_sample_count_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="sample_frames"):
        FrameModerator(detector=RecordingDetector(), sample_frames=0)
