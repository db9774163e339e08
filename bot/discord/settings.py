"""The Discord section of reactclip's settings (``REACTCLIP_DISCORD__...``).

The token is a ``SecretStr``: it never shows in a repr, a log line or a settings dump.
"""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_path
from pydantic import BaseModel, Field, SecretStr


class DiscordSettings(BaseModel):
    """How the bot talks to Discord and how much one user or one guild may ask of it."""

    token: SecretStr | None = Field(None, description="The bot token; keep it out of the repository")
    sync_guild: int | None = Field(
        None, description="Sync commands to this guild only (instant, for testing) instead of globally"
    )
    cooldown_s: float = Field(10.0, ge=0, description="Seconds between two requests from one user")
    dms: bool = Field(True, description="Answer direct messages (a DM belongs to no guild's settings)")
    instant_sticker: bool = Field(
        True,
        description="When the real clip will take a while (a queue, or a model on a slow device), "
        "post its sticker version at once and replace it in place when the clip is ready; a guild "
        "can turn this off for itself (instant_preview)",
    )
    instant_after_s: float = Field(
        2.0, ge=0, description="Post the sticker first only when the clip is expected to take longer"
    )
    guild_db: Path = Field(
        default_factory=lambda: user_data_path("reactclip") / "guilds.sqlite3",
        description="The per-guild settings and feedback database",
    )
    progress_interval_s: float = Field(1.5, gt=0, description="At most one progress edit this often")
    attachment_origins: tuple[str, ...] = Field(
        ("https://cdn.discordapp.com", "https://media.discordapp.net"),
        description="Where voice messages may be downloaded from: Discord's own attachment hosts",
    )
    voice_empty_leave_s: float = Field(
        60.0,
        ge=0,
        description="Stop listening in a voice channel once no member but bots has been in it this long",
    )
    voice_message_interval_s: float = Field(
        30.0,
        ge=0,
        description="In a guild that reacts to every voice message, at most one per channel this often",
    )
    request_ttl_s: int = Field(
        7 * 24 * 3600,
        ge=60,
        description="How long a clip's request (its text) is kept so its buttons can regenerate it",
    )
