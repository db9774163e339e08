"""Moderation's section of reactclip's settings (built by the bot's Settings, never from os.environ)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from platformdirs import user_cache_path
from pydantic import BaseModel, Field


class ModerationSettings(BaseModel):
    runtime: Literal["onnx", "torch"] = Field(
        "onnx",
        description="Where MiniLM and the moderation head run: ONNX Runtime (about twice as fast on CPU) "
        "or eager PyTorch",
    )
    onnx_dir: Path = Field(
        default_factory=lambda: user_cache_path("reactclip") / "onnx",
        description="Where the ONNX graphs exported on first use are kept",
    )
    classifier_dir: Path | None = Field(
        None, description="A local transformers text-classification model used as a third text layer"
    )
    frame_check: bool = Field(True, description="Check sampled frames of every clip before it is sent")
    sample_frames: int = Field(4, ge=1, le=16, description="Frames per clip given to the image detector")
