"""GenerationSpec: everything that determines a clip's pixels, validated before any work is done.

Like diffusers' ``check_inputs``, validation fails early with a message naming the bad value and
what is allowed, so a bad request never reaches the GPU queue.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from reactclip.engine.mood import Intensity, Mood


class OutputFormat(StrEnum):
    MP4 = "mp4"
    GIF = "gif"
    WEBP = "webp"


class SpecError(ValueError):
    """A GenerationSpec field holds a value outside what is allowed."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


SIZE_PRESETS: dict[str, tuple[int, int]] = {
    "landscape": (832, 480),
    "portrait": (480, 832),
    "square": (480, 480),
}
"""480p presets as (width, height)."""

MIN_FRAMES, MAX_FRAMES = 8, 16
MIN_FPS, MAX_FPS = 8, 16
MIN_SIDE, MAX_SIDE = 128, 1024
SIDE_MULTIPLE = 16
"""Requested sides are multiples of 16 (even for H.264, and 320x240 fits); the model renders at the
next multiple of 32 and the frames are centre-cropped back."""
MODEL_SIDE_MULTIPLE = 32
"""Wan2.2-TI2V-5B's VAE downsamples by 16 and its transformer patches by 2."""
MIN_STEPS, MAX_STEPS = 1, 100
MIN_GUIDANCE, MAX_GUIDANCE = 1.0, 20.0
MAX_PROMPT_CHARS = 2000
MAX_CAPTION_CHARS = 120
MAX_SEED = 2**32 - 1

DEFAULT_NEGATIVE_PROMPT = (
    "static, still picture, blurry, low quality, worst quality, jpeg artifacts, watermark, subtitles, "
    "text, deformed, disfigured, extra fingers, poorly drawn face, messy background"
)


def model_frame_count(frames: int) -> int:
    """The smallest Wan-valid frame count (4k+1) that holds ``frames``: 8 -> 9, 10 -> 13, 16 -> 17."""
    return (frames + 2) // 4 * 4 + 1


def model_side(side: int) -> int:
    """The smallest multiple of 32 that holds ``side``."""
    return -(-side // MODEL_SIDE_MULTIPLE) * MODEL_SIDE_MULTIPLE


def parse_size(text: str) -> tuple[int, int]:
    """Read ``832x480`` or a preset name (``landscape``, ``portrait``, ``square``) as (width, height)."""
    if text in SIZE_PRESETS:
        return SIZE_PRESETS[text]
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        allowed = ", ".join(f"{w}x{h}" for w, h in SIZE_PRESETS.values())
        raise SpecError("size", f"{text!r} is not WIDTHxHEIGHT; try one of {allowed}")
    return int(parts[0]), int(parts[1])


def seed_for(text: str) -> int:
    """A stable seed for a text, so that the same request gives the same clip (and cache key)."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big")


@dataclass(frozen=True)
class GenerationSpec:
    """Everything that determines a clip's pixels.

    ``frames``, ``width`` and ``height`` are what the user sees; ``model_frames``, ``model_width`` and
    ``model_height`` are what the diffusion model is asked for (Wan needs 4k+1 frames and sides in
    multiples of 32). ``caption``, ``style``, ``mood`` and ``intensity`` drive the sticker renderer
    and the prompt builder.
    """

    prompt: str
    negative_prompt: str = DEFAULT_NEGATIVE_PROMPT
    width: int = 832
    height: int = 480
    frames: int = 16
    fps: int = 12
    steps: int = 20
    guidance: float = 7.0
    seed: int = 0
    variant: str = "default"
    format: OutputFormat = OutputFormat.MP4
    caption: str = ""
    style: str = "cartoon"
    mood: Mood = Mood.NEUTRAL
    intensity: Intensity = Intensity.MEDIUM

    def __post_init__(self) -> None:
        # Accept plain strings for the enum fields (CLI, JSON) and store the enum.
        for name, enum in (("format", OutputFormat), ("mood", Mood), ("intensity", Intensity)):
            value = getattr(self, name)
            if not isinstance(value, enum):
                try:
                    object.__setattr__(self, name, enum(value))
                except ValueError:
                    allowed = ", ".join(m.value for m in enum)
                    raise SpecError(name, f"{value!r} is not one of {allowed}") from None
        self.check()

    def check(self) -> None:
        """Raise SpecError for the first field outside what is allowed."""
        if not self.prompt.strip():
            raise SpecError("prompt", "must not be empty")
        if len(self.prompt) > MAX_PROMPT_CHARS:
            raise SpecError("prompt", f"is {len(self.prompt)} characters; at most {MAX_PROMPT_CHARS}")
        if len(self.negative_prompt) > MAX_PROMPT_CHARS:
            raise SpecError("negative_prompt", f"is longer than {MAX_PROMPT_CHARS} characters")
        if len(self.caption) > MAX_CAPTION_CHARS:
            raise SpecError("caption", f"is longer than {MAX_CAPTION_CHARS} characters")
        for name in ("width", "height"):
            side = getattr(self, name)
            if isinstance(side, bool) or not isinstance(side, int):
                raise SpecError(name, f"{side!r} is not a whole number of pixels")
            if not MIN_SIDE <= side <= MAX_SIDE or side % SIDE_MULTIPLE:
                raise SpecError(
                    name,
                    f"{side} is not allowed; use a multiple of {SIDE_MULTIPLE} from {MIN_SIDE} to "
                    f"{MAX_SIDE} (480p presets: 832x480, 480x832, 480x480)",
                )
        _check_int_range("frames", self.frames, MIN_FRAMES, MAX_FRAMES)
        _check_int_range("fps", self.fps, MIN_FPS, MAX_FPS)
        _check_int_range("steps", self.steps, MIN_STEPS, MAX_STEPS)
        _check_int_range("seed", self.seed, 0, MAX_SEED)
        if isinstance(self.guidance, bool) or not isinstance(self.guidance, int | float):
            raise SpecError("guidance", f"{self.guidance!r} is not a number")
        if not MIN_GUIDANCE <= self.guidance <= MAX_GUIDANCE:
            raise SpecError(
                "guidance", f"{self.guidance} is outside {MIN_GUIDANCE}-{MAX_GUIDANCE} (6-9 works best)"
            )
        if not self.style.strip() or len(self.style) > 40:
            raise SpecError("style", "must name a style preset (1-40 characters)")
        if not self.variant.strip():
            raise SpecError("variant", "must name a model variant")

    @property
    def model_frames(self) -> int:
        return model_frame_count(self.frames)

    @property
    def model_width(self) -> int:
        return model_side(self.width)

    @property
    def model_height(self) -> int:
        return model_side(self.height)

    @property
    def duration_s(self) -> float:
        return self.frames / self.fps

    def replace(self, **changes: Any) -> GenerationSpec:
        """A copy with some fields changed, validated again."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready fields, in declaration order (the basis of a cache key)."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def batch_key(self) -> tuple[int, int, int, int, float, str]:
        """Specs with equal keys can share one batched diffusion call."""
        return (
            self.model_width,
            self.model_height,
            self.model_frames,
            self.steps,
            self.guidance,
            self.variant,
        )


def _check_int_range(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(name, f"{value!r} is not a whole number")
    if not low <= value <= high:
        raise SpecError(name, f"{value} is outside {low}-{high}")


def _plain(value: object) -> object:
    return value.value if isinstance(value, StrEnum) else value
