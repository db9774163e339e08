"""Fixtures for the bot: the real text models, loaded once, and a backend that records its calls."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from reactclip.engine.backends import Backend, ProgressCallback, RenderedFrames
from reactclip.engine.backends.base import StopCheck
from reactclip.engine.backends.sticker import StickerBackend
from reactclip.engine.spec import GenerationSpec

# The bot tests' helpers (fakediscord, voicelink, slowbackend) import by name from here.
sys.path.insert(0, str(Path(__file__).parent))


class RecordingBackend:
    """The real sticker renderer, counting what reaches it: proof of what the engine was asked."""

    def __init__(self, inner: Backend | None = None) -> None:
        self.inner = inner or StickerBackend()
        self.name = self.inner.name
        self.variant = self.inner.variant
        self.calls: list[list[GenerationSpec]] = []

    def generate(
        self,
        specs: Sequence[GenerationSpec],
        on_progress: ProgressCallback | None = None,
        should_stop: StopCheck | None = None,
    ) -> list[RenderedFrames]:
        self.calls.append(list(specs))
        return self.inner.generate(specs, on_progress, should_stop)

    def close(self) -> None:
        self.inner.close()


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
