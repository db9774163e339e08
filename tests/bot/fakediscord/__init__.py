"""A fake Discord (REST and gateway on 127.0.0.1) that the real discord.py client talks to in tests."""

from .server import ApiError, FakeDiscord, InteractionRecord, RestCall, UploadedFile, VoiceServerInfo
from .world import FakeChannel, FakeGuild, FakeRole, FakeUser, World, default_world

__all__ = [
    "ApiError",
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FakeRole",
    "FakeUser",
    "InteractionRecord",
    "RestCall",
    "UploadedFile",
    "VoiceServerInfo",
    "World",
    "default_world",
]
