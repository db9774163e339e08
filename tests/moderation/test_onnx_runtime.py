"""The ONNX Runtime path gives what the PyTorch path gives: the same token states, head
probabilities and verdicts, from graphs exported once into the cache folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from reactclip.moderation import RequestContext, TextModerator
from reactclip.moderation.semantic import default_head_path
from reactclip.moderation.settings import ModerationSettings
from reactclip.textmodel.embedder import SentenceEmbedder, load_embedder
from reactclip.textmodel.onnx_runtime import GraphCache, OnnxEmbedder, OnnxHead
from reactclip.textmodel.tuned import TunedHead

pytestmark = pytest.mark.slow

SENTENCES = [
    "ok",
    "make a clip of a cat falling off the couch lmao",
    "i aced my exam!!! 🎉🎉",
    "nobody at school would even notice if i was gone, honestly",
]


@pytest.fixture(scope="module")
def graphs(tmp_path_factory: pytest.TempPathFactory) -> GraphCache:
    return GraphCache(tmp_path_factory.mktemp("onnx"))


@pytest.fixture(scope="module")
def onnx_embedder(embedder: SentenceEmbedder, graphs: GraphCache) -> OnnxEmbedder:
    return OnnxEmbedder(embedder, graphs)


def test_states_match_pytorch(embedder: SentenceEmbedder, onnx_embedder: OnnxEmbedder) -> None:
    # Sentences of different lengths in one batch: padding must not leak into the states.
    expected = embedder.encode_states(SENTENCES, 4)
    got = onnx_embedder.encode_states(SENTENCES, 4)
    assert got.layer == 4
    assert torch.equal(got.mask, expected.mask)
    real = expected.mask.bool()
    assert torch.allclose(got.states[real], expected.states[real], atol=1e-4)


def test_head_probabilities_match_pytorch(embedder: SentenceEmbedder, onnx_embedder: OnnxEmbedder) -> None:
    head = TunedHead.load(embedder.encoder_layers(), default_head_path())
    onnx_head = onnx_embedder.run_head(head)
    assert isinstance(onnx_head, OnnxHead)
    assert (onnx_head.classes, onnx_head.start_layer) == (head.classes, head.start_layer)
    encoded = embedder.encode_states(SENTENCES, head.start_layer)
    got, expected = onnx_head.probabilities(encoded), head.probabilities(encoded)
    assert got.shape == expected.shape == (len(SENTENCES), len(head.classes))
    assert np.allclose(got, expected, atol=1e-4)
    with pytest.raises(ValueError, match="starts at layer"):
        onnx_head.probabilities(embedder.encode_states(SENTENCES, head.start_layer + 1))


def test_graphs_are_exported_once_and_per_weights(embedder: SentenceEmbedder, graphs: GraphCache) -> None:
    head = TunedHead.load(embedder.encoder_layers(), default_head_path())
    OnnxHead(head, graphs)
    before = {p.name: p.stat().st_mtime_ns for p in graphs.folder.glob("tuned-head-*.onnx")}
    OnnxHead(head, graphs)
    assert {p.name: p.stat().st_mtime_ns for p in graphs.folder.glob("tuned-head-*.onnx")} == before
    with torch.no_grad():
        head.out.bias.add_(1.0)  # other weights: another graph, never the stale one
    OnnxHead(head, graphs)
    assert len(list(graphs.folder.glob("tuned-head-*.onnx"))) == len(before) + 1
    assert not list(graphs.folder.glob("*.partial"))


def test_verdicts_match_the_pytorch_moderator(
    full_moderator: TextModerator, onnx_embedder: OnnxEmbedder
) -> None:
    onnx_moderator = TextModerator(onnx_embedder)
    texts = [
        *SENTENCES,
        "gave my cat to my sister, she'll take better care of her than i could",
        "make a clip humiliating my coworker, she's a fat pig",
    ]
    for context in (RequestContext(), RequestContext(nsfw_channel=True)):
        got, expected = onnx_moderator.check_many(texts, context), full_moderator.check_many(texts, context)
        assert [(v.allowed, v.category, v.layer) for v in got] == [
            (v.allowed, v.category, v.layer) for v in expected
        ]
        assert [v.confidence for v in got] == pytest.approx([v.confidence for v in expected], abs=1e-4)
    assert not all(v.allowed for v in expected), "the texts include one to block"


def test_settings_choose_the_runtime(tmp_path: Path) -> None:
    assert isinstance(load_embedder(ModerationSettings(onnx_dir=tmp_path)), OnnxEmbedder)
    assert isinstance(load_embedder(ModerationSettings(runtime="torch")), SentenceEmbedder)


def test_a_cache_folder_it_cannot_write_falls_back_to_pytorch(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with caplog.at_level("WARNING", logger="reactclip.textmodel"):
        embedder = load_embedder(ModerationSettings(onnx_dir=blocker / "onnx"))
    assert isinstance(embedder, SentenceEmbedder)
    assert any("eager PyTorch" in r.getMessage() for r in caplog.records)
