"""The frame check after generation: sampled frames of a clip go through an offline NSFW detector,
and the same policy as text decides what its detections mean where the request was made.

Running the model (``NudeNetDetector``) and deciding (``judge_detections``) are separate, so the
blocking path is tested on constructed detector outputs and no explicit image lives in the repository.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

import numpy as np

from reactclip.moderation.categories import Category
from reactclip.moderation.context import GuildPolicy, RequestContext, Strictness
from reactclip.moderation.verdict import FrameVerdict

LOG = logging.getLogger("reactclip.moderation")

INSPECTION_KEY = "nudenet"
"""Where a clip's inspection keeps the detector's output (one list of detections per sampled frame)."""
BLOCKED_REASON = "The clip came out in a way I can't post here, so I didn't send it. Try a different wording?"


@dataclass(frozen=True)
class LabelRule:
    """What one detector label means, and how sure the detector must be before it counts."""

    category: Category
    standard: float
    """Minimum score in a standard guild."""
    strict: float
    """Minimum score in a strict guild (lower: blocks on weaker evidence)."""

    def threshold(self, strictness: Strictness) -> float:
        return self.strict if strictness == "strict" else self.standard


# NudeNet 3.4 drops every box scoring under 0.25, so no threshold below that can ever fire.
# Buttocks and breasts get higher bars than genitalia: swimwear and close-ups score on them more often.
EXPLICIT_LABELS: Mapping[str, LabelRule] = MappingProxyType(
    {
        "FEMALE_GENITALIA_EXPOSED": LabelRule(Category.SEXUAL, standard=0.45, strict=0.30),
        "MALE_GENITALIA_EXPOSED": LabelRule(Category.SEXUAL, standard=0.45, strict=0.30),
        "ANUS_EXPOSED": LabelRule(Category.SEXUAL, standard=0.45, strict=0.30),
        "FEMALE_BREAST_EXPOSED": LabelRule(Category.SEXUAL, standard=0.50, strict=0.35),
        "BUTTOCKS_EXPOSED": LabelRule(Category.SEXUAL, standard=0.55, strict=0.40),
    }
)
"""Detector labels that can block a clip."""

NON_BLOCKING_LABELS = frozenset(
    {
        "FEMALE_GENITALIA_COVERED",
        "FEMALE_BREAST_COVERED",
        "BUTTOCKS_COVERED",
        "ANUS_COVERED",
        "MALE_BREAST_EXPOSED",
        "BELLY_EXPOSED",
        "BELLY_COVERED",
        "FEET_EXPOSED",
        "FEET_COVERED",
        "ARMPITS_EXPOSED",
        "ARMPITS_COVERED",
        "FACE_FEMALE",
        "FACE_MALE",
    }
)
"""The rest of the detector's labels: clothed bodies and faces never block."""


@dataclass(frozen=True)
class Detection:
    label: str
    score: float
    box: tuple[int, int, int, int] = (0, 0, 0, 0)
    """x, y, width, height in pixels of the frame."""


class FrameDetector(Protocol):
    def detect(self, image: np.ndarray) -> list[Detection]:
        """Detections in one uint8 RGB frame of shape (H, W, 3)."""
        ...


class NudeNetDetector:
    """NudeNet's bundled 320n ONNX model on the CPU, loaded on first use and shared by threads
    (an onnxruntime session may run concurrently)."""

    INPUT_SIZE = 320

    def __init__(self, model_path: Path | None = None, intra_op_threads: int = 1) -> None:
        self._model_path = model_path
        self._intra_op_threads = intra_op_threads
        self._model: Any = None
        self._lock = threading.Lock()

    def detect(self, image: np.ndarray) -> list[Detection]:
        # NudeNet feeds an array's channels to the model as given, and the model wants RGB (its
        # path-reading branch swaps them wrongly: notAI-tech/NudeNet#203), so frames go in as they are.
        raw = self._loaded().detect(np.ascontiguousarray(image))
        return [Detection(d["class"], float(d["score"]), _box(d["box"])) for d in raw]

    def _loaded(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> Any:
        import nudenet
        import onnxruntime

        path = self._model_path or Path(nudenet.__file__).parent / "320n.onnx"
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self._intra_op_threads
        options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        # NudeDetector.__init__ takes no session options and names no provider (which fails where
        # onnxruntime-gpu is installed), so skip it and set the attributes its detect() reads.
        model = nudenet.NudeDetector.__new__(nudenet.NudeDetector)
        model.onnx_session = session
        model.input_name = session.get_inputs()[0].name
        model.input_width = model.input_height = self.INPUT_SIZE
        return model


def _box(values: Sequence[Any]) -> tuple[int, int, int, int]:
    x, y, w, h = values
    return int(x), int(y), int(w), int(h)


@functools.cache
def shared_detector() -> NudeNetDetector:
    """The process-wide detector every default ``FrameModerator`` uses (built on first use; its
    model loads once, on the first frame)."""
    return NudeNetDetector()


def sample_frame_indices(num_frames: int, sample_frames: int) -> list[int]:
    """Evenly spaced frame indices, always with the first and the middle (``num_frames // 2``) frame;
    an odd ``sample_frames`` may add the middle as one extra."""
    if num_frames < 1 or sample_frames < 1:
        raise ValueError(f"need at least one frame and one sample, got {num_frames=} and {sample_frames=}")
    if sample_frames >= num_frames:
        return list(range(num_frames))
    spaced = {i * num_frames // sample_frames for i in range(sample_frames)}
    return sorted(spaced | {0, num_frames // 2})


def judge_detections(
    detections_per_frame: Sequence[Sequence[Detection]],
    context: RequestContext,
    rules: Mapping[str, LabelRule] = EXPLICIT_LABELS,
) -> FrameVerdict:
    """Decide on a clip from the detector's output for each sampled frame.

    An explicit label at or above its threshold in any frame makes the clip ``sexual``, which is
    allowed only where ``context.adult_content_allowed``. The confidence is the best such score; for
    a clean clip it is 1 minus the best explicit score seen under threshold (1.0 when none).
    """
    strictness = context.guild.strictness
    best: Detection | None = None
    best_below = 0.0
    for detections in detections_per_frame:
        for detection in detections:
            rule = rules.get(detection.label)
            if rule is None:
                continue
            if detection.score >= rule.threshold(strictness):
                if best is None or detection.score > best.score:
                    best = detection
            else:
                best_below = max(best_below, detection.score)

    frames_checked = len(detections_per_frame)
    if best is None:
        return FrameVerdict(True, Category.NONE, 1.0 - best_below, "", frames_checked)
    category = rules[best.label].category
    allowed = category is Category.SEXUAL and context.adult_content_allowed
    reason = "" if allowed else BLOCKED_REASON
    return FrameVerdict(allowed, category, best.score, reason, frames_checked)


class FrameModerator:
    """Checks a generated clip's frames before it is posted."""

    def __init__(
        self,
        detector: FrameDetector | None = None,
        sample_frames: int = 4,
        rules: Mapping[str, LabelRule] = EXPLICIT_LABELS,
    ) -> None:
        if sample_frames < 1:
            raise ValueError(f"sample_frames must be at least 1, got {sample_frames}")
        self.detector: FrameDetector = detector if detector is not None else shared_detector()
        self.sample_frames = sample_frames
        self.rules = rules

    def check(self, frames: np.ndarray, context: RequestContext) -> FrameVerdict:
        return self.judge(self.inspect(frames), context)

    def inspect(self, frames: np.ndarray) -> dict[str, Any]:
        """Run the detector on the sampled frames; the result holds no decision, so it can travel
        with the clip (and its cache entry) and be judged under each request's own policy."""
        # 1. check the input
        check_frames(frames)
        # 2. sample and detect
        indices = sample_frame_indices(frames.shape[0], self.sample_frames)
        found = [self.detector.detect(frames[i]) for i in indices]
        return {
            INSPECTION_KEY: [
                [{"label": d.label, "score": float(d.score), "box": list(d.box)} for d in f] for f in found
            ]
        }

    def judge(self, inspection: dict[str, Any], context: RequestContext) -> FrameVerdict:
        """Decide on an inspected clip under this request's policy; a clip never inspected is
        refused rather than trusted."""
        if INSPECTION_KEY not in inspection:
            return FrameVerdict(False, Category.NONE, 0.0, BLOCKED_REASON, 0)
        verdict = judge_detections(_detections(inspection), context, self.rules)
        if not verdict.allowed:
            LOG.warning(
                "frame check blocked a clip: category=%s confidence=%.2f frames_checked=%d "
                "strictness=%s nsfw_channel=%s dm=%s user=%s",
                verdict.category.value,
                verdict.confidence,
                verdict.frames_checked,
                context.guild.strictness,
                context.nsfw_channel,
                context.is_dm,
                context.user_hash,
            )
        return verdict

    def may_cache(self, inspection: dict[str, Any]) -> bool:
        """Only clips that even the strictest policy would post are cached: a clip blocked anywhere
        is never kept, and an adult clip allowed in one NSFW channel is made again next time."""
        strictest = RequestContext(guild=GuildPolicy(allow_nsfw_channels=False, strictness="strict"))
        return (
            INSPECTION_KEY in inspection
            and judge_detections(_detections(inspection), strictest, self.rules).allowed
        )


def _detections(inspection: dict[str, Any]) -> list[list[Detection]]:
    return [
        [Detection(d["label"], d["score"], _box(d["box"])) for d in frame]
        for frame in inspection[INSPECTION_KEY]
    ]


def check_frames(frames: np.ndarray) -> None:
    """Raise ValueError unless ``frames`` is a non-empty uint8 RGB array of shape (F, H, W, 3)."""
    if not isinstance(frames, np.ndarray):
        raise ValueError(f"frames must be a numpy array, got {type(frames).__name__}")
    if frames.dtype != np.uint8:
        raise ValueError(f"frames must have dtype uint8, got {frames.dtype}")
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must have shape (F, H, W, 3) with RGB channels, got {frames.shape}")
    if 0 in frames.shape:
        raise ValueError(f"frames must hold at least one non-empty frame, got shape {frames.shape}")
