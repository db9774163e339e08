from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import BertConfig, BertModel

from reactclip.moderation import UNSAFE, Category, RequestContext, SemanticClassifier, TextModerator
from reactclip.moderation.evaluate import evaluate
from reactclip.moderation.lexicon import Lexicon
from reactclip.moderation.ngram import NgramClassifier, ngram_features
from reactclip.moderation.semantic import default_head_path
from reactclip.moderation.train import EVERYDAY_DATA, load_everyday, training_sha256
from reactclip.textmodel.embedder import Encoded, SentenceEmbedder, minilm_path
from reactclip.textmodel.tuned import TunedHead, head_metadata

DATA = Path(str(resources.files("reactclip.moderation") / "data"))
HELDOUT = Path(__file__).with_name("heldout.jsonl")
HELDOUT2 = Path(__file__).with_name("heldout2.jsonl")


@pytest.fixture(scope="module")
def minilm_layers() -> torch.nn.ModuleList:
    """MiniLM's layer architecture from its config alone (random weights; a head loads its own)."""
    layers: torch.nn.ModuleList = BertModel(BertConfig.from_pretrained(str(minilm_path()))).encoder.layer
    return layers


def random_encoded(sentences: int, tokens: int = 6, layer: int = 4) -> Encoded:
    generator = torch.Generator().manual_seed(sentences)
    states = torch.randn(sentences, tokens, 384, generator=generator)
    return Encoded(states, torch.ones(sentences, tokens, dtype=torch.long), layer)


def test_shipped_weights_match_the_training_data() -> None:
    """Editing train.jsonl without running `python -m reactclip.moderation.train` fails here."""
    with np.load(DATA / "semantic_model.npz", allow_pickle=False) as model:
        assert str(model["train_sha256"]) == training_sha256()
    assert head_metadata(default_head_path())["train_sha256"] == training_sha256()


def test_a_saved_head_loads_back_with_the_same_output(
    tmp_path: Path, tiny_layers: Callable[[], torch.nn.ModuleList]
) -> None:
    head = TunedHead(tiny_layers(), 0, [Category.NONE, Category.HATE, Category.SELF_HARM]).eval()
    path = tmp_path / "head.safetensors"
    head.save(path, {"train_sha256": "abc"})
    loaded = TunedHead.load(tiny_layers(), path)
    encoded = Encoded(torch.randn(2, 5, 8), torch.ones(2, 5, dtype=torch.long), 0)
    assert loaded.classes == head.classes
    assert head_metadata(path)["train_sha256"] == "abc"
    # Stored as float16: equal to that precision.
    assert np.allclose(loaded.probabilities(encoded), head.probabilities(encoded), atol=2e-3)


def test_padding_does_not_change_what_the_head_reads(minilm_layers: torch.nn.ModuleList) -> None:
    head = SemanticClassifier.load(minilm_layers).head
    alone = random_encoded(1)
    padded = Encoded(
        torch.cat([alone.states, torch.randn(1, 4, 384)], dim=1),
        torch.cat([alone.mask, torch.zeros(1, 4, dtype=torch.long)], dim=1),
        alone.layer,
    )
    assert np.allclose(head.probabilities(alone), head.probabilities(padded), atol=1e-5)
    with pytest.raises(ValueError, match="starts at layer"):
        head.probabilities(random_encoded(1, layer=2))


def test_shipped_ngram_weights_match_the_training_data() -> None:
    with np.load(DATA / "ngram_model.npz", allow_pickle=False) as model:
        assert str(model["train_sha256"]) == training_sha256()


def test_shipped_model_carries_thresholds_chosen_by_training(minilm_layers: torch.nn.ModuleList) -> None:
    model = SemanticClassifier.load(minilm_layers)
    assert model.ngram is not None
    assert 0.0 < model.ngram_weight < 1.0
    per_category = model.thresholds.per_category
    assert set(per_category) == set(UNSAFE) - {Category.SEXUAL_REAL_PERSON}  # a rule, not a class
    assert per_category[Category.SEXUAL_MINORS] <= 0.15 + 1e-6
    assert all(0.05 <= t <= 0.95 for t in per_category.values())


def test_ngram_features_match_scikit_learn_char_wb() -> None:
    from sklearn.feature_extraction.text import CountVectorizer

    text = "u r so 🐷 ugly lol"
    expected = CountVectorizer(analyzer="char_wb", ngram_range=(2, 5), lowercase=False).build_analyzer()(text)
    chars = [f for f in ngram_features(text) if not f.startswith("\t")]
    assert sorted(chars) == sorted(expected)


def test_ngram_probabilities_sum_to_one_without_sklearn() -> None:
    model = NgramClassifier.load()
    probabilities = model.probabilities(["hello there", "", "zzzzqqq"])
    assert probabilities.shape == (3, len(model.classes))
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_blend_mixes_both_models_with_the_stored_weight(minilm_layers: torch.nn.ModuleList) -> None:
    model = SemanticClassifier.load(minilm_layers)
    assert model.ngram is not None
    encoded = random_encoded(1)
    text = "nobody would miss me"
    alone = model.head.probabilities(encoded)[0]
    ngram = model.ngram.probabilities([text])[0][[model.ngram.classes.index(c) for c in model.classes]]
    blended = model.probabilities(encoded, [text])[0]
    assert np.allclose(blended, (1 - model.ngram_weight) * alone + model.ngram_weight * ngram, atol=1e-5)


def test_training_data_is_large_and_mostly_safe() -> None:
    """Most of what the layer learns from is safe, as most requests are: train.jsonl plus the
    everyday messages that training adds as safe examples."""
    rows = [json.loads(line) for line in (DATA / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    counts = {c.value: sum(r["category"] == c.value for r in rows) for c in Category}
    everyday = len(load_everyday(EVERYDAY_DATA, Lexicon()))
    assert len(rows) >= 700 and everyday >= 1000
    assert (counts["none"] + everyday) / (len(rows) + everyday) >= 0.5
    assert all(counts[c.value] >= 50 for c in Category if c is not Category.SEXUAL_REAL_PERSON)


def test_probability_rows_sum_to_one_without_sklearn(minilm_layers: torch.nn.ModuleList) -> None:
    model = SemanticClassifier.load(minilm_layers)
    probabilities = model.probabilities(random_encoded(3), ["a", "b", "c"])
    assert probabilities.shape == (3, len(model.classes))
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_encode_states_gives_each_sentence_its_token_states(embedder: SentenceEmbedder) -> None:
    texts = ["hello there", "a much longer sentence than the first one, with padding for the other"]
    encoded = embedder.encode_states(texts, 4)
    assert len(encoded) == 2 and encoded.layer == 4
    assert encoded.states.shape[:2] == encoded.mask.shape and encoded.states.shape[2] == 384
    assert encoded.mask[0].sum() < encoded.mask[1].sum()
    first = encoded.take([0])
    assert first.states.shape[1] == int(encoded.mask[0].sum())


@pytest.mark.slow
def test_semantic_layer_catches_what_the_lexicon_misses(full_moderator: TextModerator) -> None:
    text = "i don't think i can keep going, i'm so tired of everything"
    assert full_moderator.lexicon.find(text) == []
    verdict = full_moderator.check(text, RequestContext())
    assert not verdict.allowed
    assert verdict.category is Category.SELF_HARM


@pytest.mark.slow
@pytest.mark.parametrize(
    "heldout",
    [HELDOUT, HELDOUT2],
    ids=["heldout", "heldout2 (written after the blended layer was trained and its thresholds chosen)"],
)
def test_heldout_quality(full_moderator: TextModerator, heldout: Path) -> None:
    rows = [json.loads(line) for line in heldout.read_text(encoding="utf-8").splitlines() if line.strip()]
    scores = evaluate(full_moderator, rows)
    assert scores["caught_sexual_minors"] == 1.0
    assert scores["caught_unsafe"] >= 0.88
    assert scores["caught_obfuscated"] >= 0.9
    assert scores["safe_wrongly_blocked"] <= 0.03
