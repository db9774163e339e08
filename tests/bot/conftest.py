"""Fixtures for the bot: the real text models, loaded once, and a backend that records its calls."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

# The bot tests' helpers (fakediscord, voicelink, recording_backends) import by name from here.
sys.path.insert(0, str(Path(__file__).parent))
from recording_backends import RecordingBackend


@pytest.fixture
def recording_backend() -> RecordingBackend:
    return RecordingBackend()


@pytest.fixture(scope="session")
def text_models() -> dict[str, Any]:
    """The real embedder (in the default runtime), text moderator and emotion reader, shared by every
    bot test."""
    from reactclip.engine.prompting import EmotionReader
    from reactclip.moderation.settings import ModerationSettings
    from reactclip.moderation.text import TextModerator
    from reactclip.textmodel.embedder import load_embedder

    embedder = load_embedder(ModerationSettings())
    return {"embedder": embedder, "moderator": TextModerator(embedder), "emotion": EmotionReader(embedder)}
