from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from reactclip.moderation import UNSAFE, Category, RequestContext, SemanticClassifier, TextModerator
from reactclip.moderation.evaluate import evaluate
from reactclip.moderation.ngram import NgramClassifier, ngram_features
from reactclip.moderation.train import training_sha256

DATA = Path(str(resources.files("reactclip.moderation") / "data"))
HELDOUT = Path(__file__).with_name("heldout.jsonl")
HELDOUT2 = Path(__file__).with_name("heldout2.jsonl")


def test_shipped_weights_match_the_training_data() -> None:
    """Editing train.jsonl without running `python -m reactclip.moderation.train` fails here."""
    with np.load(DATA / "semantic_model.npz", allow_pickle=False) as model:
        assert str(model["train_sha256"]) == training_sha256()


def test_shipped_ngram_weights_match_the_training_data() -> None:
    with np.load(DATA / "ngram_model.npz", allow_pickle=False) as model:
        assert str(model["train_sha256"]) == training_sha256()


def test_shipped_model_carries_thresholds_chosen_by_training() -> None:
    model = SemanticClassifier.load()
    assert model.ngram is not None
    assert 0.0 < model.ngram_weight < 1.0
    per_category = model.thresholds.per_category
    assert set(per_category) == set(UNSAFE)
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


def test_blend_mixes_both_models_with_the_stored_weight() -> None:
    model = SemanticClassifier.load()
    assert model.ngram is not None
    embedding = np.random.default_rng(1).normal(size=(1, 384)).astype(np.float32)
    embedding /= np.linalg.norm(embedding)
    text = "nobody would miss me"
    alone = model.embedding_probabilities(embedding)[0]
    ngram = model.ngram.probabilities([text])[0][[model.ngram.classes.index(c) for c in model.classes]]
    blended = model.probabilities(embedding, [text])[0]
    assert np.allclose(blended, (1 - model.ngram_weight) * alone + model.ngram_weight * ngram, atol=1e-5)


def test_training_data_is_large_and_mostly_safe() -> None:
    rows = [json.loads(line) for line in (DATA / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    counts = {c.value: sum(r["category"] == c.value for r in rows) for c in Category}
    assert len(rows) >= 700
    assert counts["none"] / len(rows) >= 0.45
    assert all(counts[c.value] >= 50 for c in Category)


def test_softmax_rows_sum_to_one_without_sklearn() -> None:
    model = SemanticClassifier.load()
    probabilities = model.probabilities(np.random.default_rng(0).normal(size=(3, 384)).astype(np.float32))
    assert probabilities.shape == (3, len(model.classes))
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


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
