"""Moderation fixtures: one MiniLM embedder per session (slow tests only), a lexicon-only moderator,
and moderators whose semantic layer is a real head with known output on a tiny random encoder layer
(no MiniLM load)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
import torch
from transformers import BertConfig, BertModel

from reactclip.moderation.categories import Category
from reactclip.moderation.semantic import SemanticClassifier, SemanticThresholds
from reactclip.moderation.text import TextModerator
from reactclip.textmodel.embedder import Encoded, SentenceEmbedder
from reactclip.textmodel.tuned import TunedHead

HIDDEN = 8


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


def make_tiny_layers() -> torch.nn.ModuleList:
    """One random BERT layer of hidden size 8."""
    config = BertConfig(hidden_size=HIDDEN, num_attention_heads=2, intermediate_size=16, num_hidden_layers=1)
    layers: torch.nn.ModuleList = BertModel(config).encoder.layer
    return layers


def constant_head(classes: list[Category], probabilities: Sequence[float]) -> TunedHead:
    """A real head whose linear layer ignores the pooled vector: it always gives ``probabilities``."""
    head = TunedHead(make_tiny_layers(), 0, classes)
    with torch.no_grad():
        head.out.weight.zero_()
        head.out.bias.copy_(torch.log(torch.tensor(probabilities, dtype=torch.float32)))
    return head.eval()


@pytest.fixture
def tiny_layers() -> Callable[[], torch.nn.ModuleList]:
    return make_tiny_layers


class ZeroEmbedder:
    """An Embedder of the tiny head's size: every sentence gets zero states."""

    def __init__(self, head: TunedHead) -> None:
        self.layers = head.layers

    def encode_states(self, sentences: list[str], layer: int) -> Encoded:
        n = len(sentences)
        return Encoded(torch.zeros(n, 3, HIDDEN), torch.ones(n, 3), layer)

    def encoder_layers(self) -> torch.nn.ModuleList:
        return self.layers

    def run_head(self, head: TunedHead) -> TunedHead:
        return head


SemanticModeratorFactory = Callable[..., TextModerator]


@pytest.fixture
def semantic_moderator() -> SemanticModeratorFactory:
    """``make(probabilities, thresholds, any_unsafe=0.9)``: a moderator whose semantic layer gives
    ``probabilities`` (NONE takes the rest) whatever the text."""

    def make(
        probabilities: dict[Category, float], thresholds: dict[Category, float], any_unsafe: float = 0.9
    ) -> TextModerator:
        classes = [Category.NONE, *probabilities]
        head = constant_head(classes, [1.0 - sum(probabilities.values()), *probabilities.values()])
        semantic = SemanticClassifier(
            head, SemanticThresholds(per_category=thresholds, any_unsafe=any_unsafe, strict_factor=0.7)
        )
        return TextModerator(ZeroEmbedder(head), semantic=semantic)

    return make
