"""Speech's section of reactclip's settings (built by the bot's Settings, never from os.environ).

``REACTCLIP_VOSK_MODEL`` is a short name for ``REACTCLIP_SPEECH__VOSK_MODEL``; the bot's Settings
maps it here.
"""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_path
from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_VOSK_MODEL = "vosk-model-small-en-us-0.15"
VOSK_MODEL_LIST_URL = "https://alphacephei.com/vosk/models/model-list.json"


class SpeechSettings(BaseModel):
    """Where the Vosk model lives and how much audio one request may bring."""

    model_config = ConfigDict(validate_default=True)

    vosk_model: Path = Field(
        default_factory=lambda: user_data_path("reactclip") / "vosk" / DEFAULT_VOSK_MODEL,
        description="The Vosk model directory (REACTCLIP_VOSK_MODEL); `reactclip models vosk` fills it",
    )
    vosk_model_list_url: str = Field(
        VOSK_MODEL_LIST_URL, description="The official Vosk model list (name, url, md5, size per model)"
    )
    max_audio_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="The largest audio file accepted, checked before reading it"
    )
    max_duration_s: float = Field(60.0, gt=0, le=3600, description="The longest audio accepted")
    decode_timeout_s: float = Field(20.0, gt=0, description="Give up decoding one file after this long")
    min_confidence: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Below this mean word confidence a transcript counts as not made out (no clip)",
    )
    download_timeout_s: float = Field(
        60.0, gt=0, description="`reactclip models vosk`: give up when the server is silent this long"
    )

    @field_validator("vosk_model")
    @classmethod
    def _expand_home(cls, path: Path) -> Path:
        return path.expanduser()
