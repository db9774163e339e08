"""Retrain the shipped emotion reader: ``python -m reactclip.engine.prompting.train_emotion``.

Reads ``textmodel/data/chat_messages.jsonl`` ({"text", "emotion", "intensity"} per line) and encodes each
message as the analyzer does (moderation's ``normalize(text)``, MiniLM's token states after the
lower layers moderation's head also starts from). Then:

1. out of fold (5 folds, stratified by "mood/intensity"): a tuned head (moderation.tuned.TunedHead,
   fine-tuned exactly as moderation's) trained on four folds reads the fifth;
2. on those readings it fits the temperature that calibrates the mood probabilities (least log
   loss), the neutral floor that gives the reader (rules included) its best macro-F1, and the
   intensity regression over [the head's intensities for the labelled mood, the cue features];
3. the shipped head is trained on every line and written to ``data/emotion_head.safetensors``,
   the rest to ``data/emotion_model.npz``, both with the sha256 of the training file, so a test can
   tell when the data changed and the weights did not.

Training is a dev tool: it uses moderation's normaliser, embedder and head training, and
scikit-learn (a dev dependency). ``--eval FILE`` prints accuracy, macro-F1 and the confusion matrix
of the shipped reader on a labelled file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from reactclip.engine.mood import Intensity, Mood
from reactclip.engine.prompting.cues import read_cues
from reactclip.engine.prompting.emotion import (
    CUE_FEATURE_NAMES,
    EmotionModel,
    EmotionReader,
    IntensityModel,
    cue_features,
    default_head_path,
    default_model_path,
    default_train_path,
    joint_label,
    joint_labels,
)

if TYPE_CHECKING:
    from reactclip.textmodel.embedder import Encoded, SentenceEmbedder

FOLDS = 5
TEMPERATURES = np.round(np.arange(0.5, 3.01, 0.1), 2)
NEUTRAL_FLOORS = np.round(np.arange(0.0, 0.61, 0.025), 3)
INTENSITY_C = 1.0
"""Inverse regularisation of the intensity regression; its classes are weighted by inverse frequency."""


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Example:
    text: str
    mood: Mood
    intensity: Intensity

    @property
    def label(self) -> str:
        return joint_label(self.mood, self.intensity)


def load_examples(path: Path) -> list[Example]:
    examples: list[Example] = []
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        try:
            examples.append(Example(str(row["text"]), Mood(row["emotion"]), Intensity(row["intensity"])))
        except (KeyError, ValueError) as exc:
            raise SystemExit(f"{path}:{number}: {exc}") from exc
    return examples


def encode(embedder: SentenceEmbedder, texts: Sequence[str]) -> Encoded:
    """The token states the analyzer gives the reader: of the normalised text, at the layer
    moderation's head starts from."""
    from reactclip.textmodel.normalize import normalize
    from reactclip.textmodel.training import HEAD_START_LAYER, encode_all

    return encode_all(embedder, [normalize(t) or " " for t in texts], HEAD_START_LAYER)


def fit(embedder: SentenceEmbedder, encoded: Encoded, labels: list[str]) -> Any:
    from reactclip.textmodel.training import fit_head

    return fit_head(encoded, labels, joint_labels(), embedder.encoder_layers())


def out_of_fold(embedder: SentenceEmbedder, encoded: Encoded, labels: list[str]) -> np.ndarray:
    """Each message's head probabilities from a head that never saw it."""
    from sklearn.model_selection import StratifiedKFold

    from reactclip.textmodel.training import head_probabilities

    probabilities = np.zeros((len(labels), len(joint_labels())), dtype=np.float64)
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=0).split(labels, labels)
    for number, (train_index, test_index) in enumerate(folds, 1):
        head = fit(embedder, encoded.take(train_index.tolist()), [labels[i] for i in train_index])
        probabilities[test_index] = head_probabilities(head, encoded.take(test_index.tolist()))
        print(f"  fold {number} of {FOLDS} done", flush=True)
    return probabilities


def reader_for(model: EmotionModel) -> EmotionReader:
    """A reader that applies ``model`` to head probabilities given to ``reading_from_head``."""
    reader = EmotionReader(None)
    reader.model = model
    return reader


def fit_temperature(model: EmotionModel, probabilities: np.ndarray, examples: list[Example]) -> float:
    """The temperature with the least log loss of the labelled moods."""
    moods = list(Mood)
    truth = np.asarray([moods.index(e.mood) for e in examples])

    def log_loss(temperature: float) -> float:
        calibrated = replace(model, temperature=float(temperature))
        by_mood = np.stack([calibrated.moods(row)[0] for row in probabilities])
        return float(-np.log(np.clip(by_mood[np.arange(len(truth)), truth], 1e-12, None)).mean())

    return float(min(TEMPERATURES, key=log_loss))


def macro_f1(truth: Sequence[str], read: Sequence[str]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(truth, read, average="macro", labels=[m.value for m in Mood], zero_division=0))


def choose_neutral_floor(model: EmotionModel, probabilities: np.ndarray, examples: list[Example]) -> float:
    """The floor with the best out-of-fold macro-F1 of the whole reader (rules included)."""
    truth = [e.mood.value for e in examples]
    scores = []
    for floor in NEUTRAL_FLOORS:
        reader = reader_for(replace(model, neutral_floor=float(floor)))
        read = [
            reader.reading_from_head(e.text, read_cues(e.text), row).mood.value
            for e, row in zip(examples, probabilities, strict=True)
        ]
        scores.append(macro_f1(truth, read))
        print(f"  neutral floor {floor:.3f}: out-of-fold macro-F1 {scores[-1]:.3f}")
    return float(NEUTRAL_FLOORS[int(np.argmax(scores))])


def fit_intensity(model: EmotionModel, probabilities: np.ndarray, examples: list[Example]) -> IntensityModel:
    """Intensity regression on the emotional lines (neutral is always low): the head's out-of-fold
    intensities for the labelled mood and the cue features; its own out-of-fold accuracy printed."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    rows = [(e, p) for e, p in zip(examples, probabilities, strict=True) if e.mood is not Mood.NEUTRAL]
    x = np.stack(
        [
            np.concatenate([model.moods(p)[1][e.mood], cue_features(read_cues(e.text), e.text)])
            for e, p in rows
        ]
    )
    y = np.asarray([e.intensity.value for e, _ in rows])
    regression = LogisticRegression(C=INTENSITY_C, class_weight="balanced", max_iter=5000)
    predicted = cross_val_predict(regression, x, y, cv=FOLDS)
    print(f"intensity: out-of-fold accuracy {np.mean(predicted == y):.3f} on {len(y)} emotional lines")
    fitted = regression.fit(x, y)
    return IntensityModel(
        coef=fitted.coef_.astype(np.float32),
        intercept=fitted.intercept_.astype(np.float32),
        classes=tuple(Intensity(str(c)) for c in fitted.classes_),
    )


def train(train_path: Path, model_path: Path, head_path: Path) -> None:
    from reactclip.textmodel.embedder import SentenceEmbedder

    examples = load_examples(train_path)
    labels = [e.label for e in examples]
    embedder = SentenceEmbedder()
    encoded = encode(embedder, [e.text for e in examples])
    probabilities = out_of_fold(embedder, encoded, labels)
    sha256 = file_sha256(train_path)
    model = EmotionModel(classes=tuple(joint_labels()), train_sha256=sha256)
    model = replace(model, temperature=fit_temperature(model, probabilities, examples))
    print(f"temperature {model.temperature:.2f} (out-of-fold log loss)")
    model = replace(model, neutral_floor=choose_neutral_floor(model, probabilities, examples))
    print(f"neutral floor {model.neutral_floor:.3f} (out-of-fold macro-F1)")
    model = replace(model, intensity=fit_intensity(model, probabilities, examples))
    fit(embedder, encoded, labels).save(head_path, {"train_sha256": sha256})
    save_model(model, model_path)
    print(f"trained on {len(examples)} messages; wrote {head_path} and {model_path}")


def save_model(model: EmotionModel, path: Path) -> None:
    assert model.intensity is not None
    np.savez(
        path,
        classes=np.asarray(model.classes, dtype=str),
        cue_features=np.asarray(CUE_FEATURE_NAMES, dtype=str),
        sha256=np.asarray(model.train_sha256),
        temperature=np.asarray(model.temperature),
        neutral_floor=np.asarray(model.neutral_floor),
        intensity_coef=model.intensity.coef,
        intensity_intercept=model.intensity.intercept,
        intensity_classes=np.asarray([i.value for i in model.intensity.classes], dtype=str),
    )


def evaluate(path: Path, model_path: Path, head_path: Path) -> float:
    """Accuracy and macro-F1 of the shipped reader on a labelled file, read as the analyzer
    reads (normalised text), with the confusion matrix (rows: truth, columns: read) and intensity
    accuracy where the file labels it."""
    from reactclip.textmodel.embedder import SentenceEmbedder

    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    embedder = SentenceEmbedder()
    reader = EmotionReader(embedder, model_path=model_path, head_path=head_path)
    readings = reader.read_many([r["text"] for r in rows])  # normalised, as the analyzer reads
    order = list(Mood)
    matrix = np.zeros((len(order), len(order)), dtype=int)
    for row, reading in zip(rows, readings, strict=True):
        matrix[order.index(Mood(row["emotion"])), order.index(reading.mood)] += 1
        if row["emotion"] != reading.mood.value:
            print(f"  {row['emotion']:>8} read as {reading.mood.value:<8} {row['text']}")
    accuracy = float(np.trace(matrix) / matrix.sum())
    f1 = macro_f1([r["emotion"] for r in rows], [r.mood.value for r in readings])
    print(f"accuracy {accuracy:.3f}, macro-F1 {f1:.3f} on {len(rows)} messages")
    print(" " * 9 + " ".join(f"{m.value[:7]:>7}" for m in order))
    for mood, counts in zip(order, matrix, strict=True):
        print(f"{mood.value:>8} " + " ".join(f"{n:>7}" for n in counts))
    labelled = [
        (r["intensity"], x.intensity.value) for r, x in zip(rows, readings, strict=True) if "intensity" in r
    ]
    if labelled:
        print(f"intensity accuracy {np.mean([a == b for a, b in labelled]):.3f} on {len(labelled)} lines")
    return accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_train_path())
    parser.add_argument("--out", type=Path, default=default_model_path())
    parser.add_argument("--head-out", type=Path, default=default_head_path())
    parser.add_argument("--eval", type=Path, help="only evaluate the shipped reader on this labelled file")
    args = parser.parse_args()
    if args.eval:
        evaluate(args.eval, args.out, args.head_out)
    else:
        train(args.data, args.out, args.head_out)


if __name__ == "__main__":
    main()
