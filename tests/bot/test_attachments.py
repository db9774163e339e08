"""Only Discord's own attachment URLs are fetched."""

from __future__ import annotations

import pytest

from reactclip.bot.discord.attachments import is_discord_attachment
from reactclip.bot.discord.settings import DiscordSettings

ORIGINS = DiscordSettings().attachment_origins


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.discordapp.com/attachments/1/2/voice-message.ogg?ex=1&is=2&hm=3",
        "https://media.discordapp.net/attachments/1/2/voice-message.ogg",
        "https://CDN.discordapp.com/ephemeral-attachments/1/2/voice-message.ogg",
    ],
)
def test_discord_attachment_urls_are_fetched(url: str) -> None:
    assert is_discord_attachment(url, ORIGINS)


@pytest.mark.parametrize(
    "url",
    [
        "http://cdn.discordapp.com/attachments/1/2/a.ogg",  # not https
        "https://cdn.discordapp.com.evil.example/attachments/1/2/a.ogg",
        "https://evil.example/attachments/1/2/a.ogg",
        "https://cdn.discordapp.com@evil.example/attachments/1/2/a.ogg",
        "https://cdn.discordapp.com:8443/attachments/1/2/a.ogg",
        "https://cdn.discordapp.com/avatars/1/2.png",
        "file:///etc/passwd",
        "",
    ],
)
def test_anything_else_is_not(url: str) -> None:
    assert not is_discord_attachment(url, ORIGINS)
