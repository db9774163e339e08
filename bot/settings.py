"""reactclip's one settings object: environment variables with a ``REACTCLIP_`` prefix and an
optional TOML file. Nothing else in reactclip reads ``os.environ``.

Nested sections use ``__`` in variable names: ``REACTCLIP_ENGINE__BACKEND=sticker``,
``REACTCLIP_ENGINE__WAN__MODEL=/models/wan``. The TOML file is ``REACTCLIP_CONFIG`` if set, else
``~/.config/reactclip/config.toml`` if it exists; keep it (and the bot token) outside the repository.
A few settings also have a short variable of their own (``SHORT_NAMES``: ``REACTCLIP_VOSK_MODEL``);
the full name wins where both are set.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from platformdirs import user_config_path
from pydantic import BaseModel, Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from reactclip.bot.discord.settings import DiscordSettings
from reactclip.engine.settings import EngineSettings
from reactclip.moderation.settings import ModerationSettings
from reactclip.speech.settings import SpeechSettings

CONFIG_ENV = "REACTCLIP_CONFIG"
DEFAULT_CONFIG_PATH = user_config_path("reactclip") / "config.toml"


def config_path() -> Path | None:
    """The TOML file to read, if any."""
    explicit = os.environ.get(CONFIG_ENV)
    if explicit:
        return Path(explicit).expanduser()
    return DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.is_file() else None


SHORT_NAMES: dict[str, tuple[str, str]] = {"REACTCLIP_VOSK_MODEL": ("speech", "vosk_model")}
"""Variables named in the docs and issues, and the (section, field) each one sets."""


class ShortNames(PydanticBaseSettingsSource):
    """The settings given by their short variables (``SHORT_NAMES``)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ builds the whole mapping

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for variable, (section, name) in SHORT_NAMES.items():
            value = os.environ.get(variable)
            if value:
                found.setdefault(section, {})[name] = value
        return found


class MonitoringSettings(BaseModel):
    """Where ``/metrics``, ``/health`` and ``/ready`` listen (monitoring.py); ``--metrics-port``
    overrides the port of the command it is given to."""

    host: str = Field("127.0.0.1", description="The address to bind; another than 127.0.0.1 exposes metrics")
    bot_port: int = Field(9108, ge=0, le=65535, description="reactclip run's port; 0 turns it off")
    worker_port: int = Field(9109, ge=0, le=65535, description="reactclip worker's port; 0 turns it off")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="REACTCLIP_", env_nested_delimiter="__", extra="ignore", validate_default=True
    )

    engine: EngineSettings = Field(default_factory=EngineSettings)
    moderation: ModerationSettings = Field(default_factory=ModerationSettings)
    discord: DiscordSettings = Field(default_factory=DiscordSettings)
    speech: SpeechSettings = Field(default_factory=SpeechSettings)
    monitoring: MonitoringSettings = Field(default_factory=MonitoringSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Precedence: explicit arguments, then the environment (full names over short ones), then
        # the TOML file.
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, ShortNames(settings_cls)]
        path = config_path()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)
