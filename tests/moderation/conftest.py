"""Moderation fixtures: one MiniLM embedder per session (slow tests only) and a lexicon-only moderator."""

from __future__ import annotations

import pytest

from reactclip.moderation.embedder import SentenceEmbedder
from reactclip.moderation.text import TextModerator


@pytest.fixture(scope="session")
def embedder() -> SentenceEmbedder:
    import torch

    torch.set_num_threads(1)
    return SentenceEmbedder()


@pytest.fixture(scope="session")
def full_moderator(embedder: SentenceEmbedder) -> TextModerator:
    return TextModerator(embedder)


@pytest.fixture(scope="session")
def lexicon_moderator() -> TextModerator:
    return TextModerator()
