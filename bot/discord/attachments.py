"""Voice messages: which attachment holds one, and fetching it safely.

Only attachments Discord itself describes are fetched (never a URL someone typed), and only from
Discord's own attachment hosts; the size and duration Discord reports are checked before a byte is
downloaded, and the size again after.
"""

from __future__ import annotations

import urllib.parse

import discord

from reactclip.bot.discord.errors import NotAllowed
from reactclip.speech.errors import AudioTooLarge, AudioTooLong
from reactclip.speech.settings import SpeechSettings

ATTACHMENT_PATHS = ("/attachments/", "/ephemeral-attachments/")
NOT_FROM_DISCORD = "that audio isn't stored on Discord, so I won't fetch it"


def voice_attachment(message: discord.Message) -> discord.Attachment | None:
    """The recording of a voice message (Discord flags the message and gives its one attachment a
    duration and waveform); None for any other message."""
    if not message.flags.voice:
        return None
    return next((a for a in message.attachments if a.is_voice_message()), None)


def is_discord_attachment(url: str, origins: tuple[str, ...]) -> bool:
    """Whether ``url`` is an attachment on one of ``origins`` (scheme and host, e.g.
    ``https://cdn.discordapp.com``)."""
    parts = urllib.parse.urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    return origin in {o.lower().rstrip("/") for o in origins} and parts.path.startswith(ATTACHMENT_PATHS)


async def read_voice_message(
    attachment: discord.Attachment, limits: SpeechSettings, origins: tuple[str, ...]
) -> bytes:
    """The recording's bytes, after every check that needs no download."""
    if not is_discord_attachment(attachment.url, origins):
        raise NotAllowed(NOT_FROM_DISCORD)
    if attachment.size > limits.max_audio_bytes:
        raise AudioTooLarge(attachment.size, limits.max_audio_bytes)
    if attachment.duration is not None and attachment.duration > limits.max_duration_s:
        raise AudioTooLong(limits.max_duration_s, attachment.duration)
    data = await attachment.read()
    if len(data) > limits.max_audio_bytes:  # larger than Discord said: refuse all the same
        raise AudioTooLarge(len(data), limits.max_audio_bytes)
    return data
