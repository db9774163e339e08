"""Only Discord's own attachment URLs are fetched. The URLs here are only classified, never
requested (no test reaches the network)."""

from __future__ import annotations

import pytest

from reactclip.bot.discord.attachments import is_discord_attachment
from reactclip.bot.discord.settings import DiscordSettings

ORIGINS = DiscordSettings().attachment_origins


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.discordapp.com/attachments/1/2/voice-message.ogg?ex=1&is=2&hm=3",  # offline-ok
        "https://media.discordapp.net/attachments/1/2/voice-message.ogg",  # offline-ok
        "https://CDN.discordapp.com/ephemeral-attachments/1/2/voice-message.ogg",  # offline-ok
    ],
)
def test_discord_attachment_urls_are_accepted(url: str) -> None:
    assert is_discord_attachment(url, ORIGINS)


@pytest.mark.parametrize(
    "url",
    [
        "http://cdn.discordapp.com/attachments/1/2/a.ogg",  # offline-ok (not https)
        "https://cdn.discordapp.com.evil.example/attachments/1/2/a.ogg",  # offline-ok
        "https://evil.example/attachments/1/2/a.ogg",  # offline-ok
        "https://cdn.discordapp.com@evil.example/attachments/1/2/a.ogg",  # offline-ok
        "https://cdn.discordapp.com:8443/attachments/1/2/a.ogg",  # offline-ok
        "https://cdn.discordapp.com/avatars/1/2.png",  # offline-ok
        "file:///etc/passwd",  # offline-ok
        "",
    ],
)
def test_anything_else_is_not(url: str) -> None:
    assert not is_discord_attachment(url, ORIGINS)
