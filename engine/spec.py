"""GenerationSpec: everything that determines a clip's pixels, validated before any work is done.

Like diffusers' ``check_inputs``, validation fails early with a message naming the bad value and
what is allowed, so a bad request never reaches the GPU queue.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import annotated_types
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.fields import FieldInfo

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


class GenerationSpec(BaseModel):
    """Everything that determines a clip's pixels.

    ``frames``, ``width`` and ``height`` are what the user sees; ``model_frames``, ``model_width`` and
    ``model_height`` are what the diffusion model is asked for (Wan needs 4k+1 frames and sides in
    multiples of 32). ``caption``, ``style``, ``mood`` and ``intensity`` drive the sticker renderer
    and the prompt builder.

    A frozen pydantic model: the limits are declared on the fields, pydantic coerces what the CLI
    and JSON hand in ("16" frames, "gif"), and a refusal leaves as one SpecError that names the field
    and what it allows (``spec_error``), so callers never meet pydantic's own error type.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    prompt: str = Field(max_length=MAX_PROMPT_CHARS)
    negative_prompt: str = Field(DEFAULT_NEGATIVE_PROMPT, max_length=MAX_PROMPT_CHARS)
    width: int = Field(832, ge=MIN_SIDE, le=MAX_SIDE, multiple_of=SIDE_MULTIPLE)
    height: int = Field(480, ge=MIN_SIDE, le=MAX_SIDE, multiple_of=SIDE_MULTIPLE)
    frames: int = Field(16, ge=MIN_FRAMES, le=MAX_FRAMES)
    fps: int = Field(12, ge=MIN_FPS, le=MAX_FPS)
    steps: int = Field(20, ge=MIN_STEPS, le=MAX_STEPS)
    guidance: float = Field(7.0, ge=MIN_GUIDANCE, le=MAX_GUIDANCE, description="6-9 works best")
    seed: int = Field(0, ge=0, le=MAX_SEED)
    variant: str = Field("default", description="must name a model variant")
    format: OutputFormat = OutputFormat.MP4
    caption: str = Field("", max_length=MAX_CAPTION_CHARS)
    style: str = Field("cartoon", max_length=40, description="must name a style preset (1-40 characters)")
    mood: Mood = Mood.NEUTRAL
    intensity: Intensity = Intensity.MEDIUM

    if not TYPE_CHECKING:  # mypy keeps pydantic's typed signature; at run time refusals become SpecError

        def __init__(self, **fields: Any) -> None:
            try:
                super().__init__(**fields)
            except ValidationError as error:
                raise spec_error(error) from None

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans(cls, value: object) -> object:
        """pydantic would read True as 1; a boolean is never a frame count, a seed or a prompt."""
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not a value for this field")
        return value

    @field_validator("prompt", "variant", "style")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

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
        """A copy with some fields changed, validated again (pydantic's model_copy would not)."""
        return GenerationSpec(**(self.model_dump() | changes))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready fields, in declaration order (the basis of a cache key)."""
        return self.model_dump(mode="json")

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


_BOUND_ERRORS = frozenset({"greater_than_equal", "less_than_equal", "multiple_of"})
_SIDE_HINT = (
    f"use a multiple of {SIDE_MULTIPLE} from {MIN_SIDE} to {MAX_SIDE} "
    "(480p presets: 832x480, 480x832, 480x480)"
)


def spec_error(error: ValidationError) -> SpecError:
    """The first problem pydantic found, said so a user can act on it: the field, the value and what
    the field allows (its declared bounds, choices or advice)."""
    problem = error.errors()[0]
    name = str(problem["loc"][0]) if problem["loc"] else "spec"
    field = GenerationSpec.model_fields.get(name)
    value, kind = problem.get("input"), problem["type"]
    description = field.description if field is not None else None
    if kind == "value_error" and description and name != "guidance":
        message = description  # a blank variant or style
    elif kind == "value_error":
        message = str(problem["ctx"]["error"])
    elif name in ("width", "height") and kind in _BOUND_ERRORS:
        message = f"{value} is not allowed; {_SIDE_HINT}"
    elif kind in _BOUND_ERRORS and field is not None:
        low, high = _bounds(field)
        message = f"{value} is outside {low}-{high}" + (f" ({description})" if description else "")
    elif kind == "string_too_long":
        message = f"is {len(str(value))} characters; at most {problem['ctx']['max_length']}"
    elif kind == "enum" and field is not None and isinstance(field.annotation, type):
        allowed = ", ".join(member.value for member in field.annotation)
        message = f"{value!r} is not one of {allowed}"
    elif kind.startswith("int_"):
        message = f"{value!r} is not a whole number"
    elif kind.startswith("float_"):
        message = f"{value!r} is not a number"
    elif kind == "extra_forbidden":
        message = "is not a field of a clip spec"
    else:
        message = problem["msg"]
    return SpecError(name, message)


def _bounds(field: FieldInfo) -> tuple[object, object]:
    """The ge and le declared on a numeric field."""
    low = next((m.ge for m in field.metadata if isinstance(m, annotated_types.Ge)), None)
    high = next((m.le for m in field.metadata if isinstance(m, annotated_types.Le)), None)
    return low, high
