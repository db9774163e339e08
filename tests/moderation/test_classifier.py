"""The optional classifier layer's plumbing, with a tiny random BERT built offline (not accuracy)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from reactclip.moderation import Category, RequestContext, TextModerator
from reactclip.moderation.classifier import TransformersClassifier, label_key

LABELS = ["toxic", "threat", "insult", "identity_hate"]


@pytest.fixture(scope="module")
def tiny_classifier_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    path = tmp_path_factory.mktemp("tiny-toxicity")
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "what", "a", "day", "hello", "world"]
    tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]"
    ).save_pretrained(path)

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(words),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        num_labels=len(LABELS),
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
        problem_type="multi_label_classification",
    )
    model = BertForSequenceClassification(config)
    with torch.no_grad():  # make "threat" the label that fires, whatever the random weights say
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor([6.0, 4.0, -6.0, -6.0]))
    model.save_pretrained(path)
    return path


def test_label_key_normalises_common_spellings() -> None:
    assert label_key("Self-Harm") == "self_harm"
    assert label_key("sexual/minors") == "sexual_minors"
    assert label_key("identity attack") == "identity_attack"


def test_labels_are_mapped_to_categories(tiny_classifier_dir: Path) -> None:
    classifier = TransformersClassifier(tiny_classifier_dir)
    (scores,) = classifier.scores(["what a day"])
    assert set(scores) == {
        Category.VIOLENCE_GORE,
        Category.HARASSMENT,
        Category.HATE,
    }  # "toxic" maps to nothing
    assert scores[Category.VIOLENCE_GORE] == pytest.approx(torch.sigmoid(torch.tensor(4.0)).item(), abs=1e-3)


def test_threshold_decides(tiny_classifier_dir: Path) -> None:
    classifier = TransformersClassifier(tiny_classifier_dir)
    (scores,) = classifier.scores(["hello world"])
    assert classifier.findings(scores, threshold=0.9) == [
        (Category.VIOLENCE_GORE, pytest.approx(0.982, abs=1e-3))
    ]
    assert classifier.findings(scores, threshold=0.99) == []


def test_moderator_runs_the_classifier_layer_when_configured(tiny_classifier_dir: Path) -> None:
    blocking = TextModerator(classifier_dir=tiny_classifier_dir, classifier_threshold=0.9)
    verdict = blocking.check("what a day", RequestContext())
    assert not verdict.allowed
    assert verdict.layer == "classifier"
    assert verdict.category is Category.VIOLENCE_GORE

    lenient = TextModerator(classifier_dir=tiny_classifier_dir, classifier_threshold=0.99)
    assert lenient.check("what a day", RequestContext()).allowed
