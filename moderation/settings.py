"""Moderation's section of reactclip's settings (built by the bot's Settings, never from os.environ)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class ModerationSettings(BaseModel):
    classifier_dir: Path | None = Field(
        None, description="A local transformers text-classification model used as a third text layer"
    )
    frame_check: bool = Field(True, description="Check sampled frames of every clip before it is sent")
    sample_frames: int = Field(4, ge=1, le=16, description="Frames per clip given to the image detector")
