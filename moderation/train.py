"""Retrain the semantic layer: ``python -m reactclip.moderation.train``.

Reads data/train.jsonl ({"text", "category"} per line), normalises each text exactly as run time
does, embeds it with MiniLM, fits a multinomial logistic regression and writes
data/semantic_model.npz with the sha256 of the training file, so a test can tell stale weights.
Prints out-of-fold scores (5-fold) to guide the thresholds in semantic.py.
scikit-learn is needed here only (the dev extra), never at run time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from importlib import resources
from pathlib import Path

import numpy as np

from reactclip.moderation.categories import Category
from reactclip.moderation.embedder import Embedder, SentenceEmbedder
from reactclip.moderation.normalize import normalize
from reactclip.moderation.semantic import MODEL_FILE, SemanticClassifier

DATA_DIR = Path(str(resources.files("reactclip.moderation") / "data"))
REGULARISATION_C = 1.0


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_examples(path: Path) -> tuple[list[str], list[Category]]:
    texts, labels = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        try:
            labels.append(Category(row["category"]))
        except ValueError:
            raise ValueError(f"{path}:{number}: unknown category {row['category']!r}") from None
        texts.append(row["text"])
    return texts, labels


def embed_normalised(texts: list[str], embedder: Embedder) -> np.ndarray:
    return embedder.encode([normalize(t) for t in texts])


def fit(embeddings: np.ndarray, labels: list[Category]) -> tuple[np.ndarray, np.ndarray, list[Category]]:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=REGULARISATION_C, max_iter=5000)
    model.fit(embeddings, [c.value for c in labels])
    classes = [Category(c) for c in model.classes_]
    return model.coef_.astype(np.float32), model.intercept_.astype(np.float32), classes


def out_of_fold_report(embeddings: np.ndarray, labels: list[Category], folds: int = 5) -> None:
    """Per-category catch and safe false-flag rate with the shipped thresholds, on held-out folds."""
    from sklearn.model_selection import StratifiedKFold

    y = np.array([c.value for c in labels])
    flagged = np.zeros(len(labels), dtype=bool)
    correct = np.zeros(len(labels), dtype=bool)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    for train_idx, test_idx in splitter.split(embeddings, y):
        coef, intercept, classes = fit(embeddings[train_idx], [labels[i] for i in train_idx])
        model = SemanticClassifier(coef, intercept, classes)
        for i, row in zip(test_idx, model.probabilities(embeddings[test_idx]), strict=True):
            findings = model.findings(row)
            flagged[i] = bool(findings)
            correct[i] = bool(findings) and findings[0].category is labels[i]
    print(f"out-of-fold ({folds} folds), semantic layer alone:")
    for category in Category:
        mask = y == category.value
        if category is Category.NONE:
            print(f"  safe wrongly flagged: {flagged[mask].mean():.1%} of {mask.sum()}")
        else:
            caught, right = flagged[mask].mean(), correct[mask].mean()
            print(f"  {category.value:14s} caught {caught:.1%}  (right category {right:.1%}) of {mask.sum()}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_DIR / "train.jsonl")
    parser.add_argument("--out", type=Path, default=DATA_DIR / MODEL_FILE)
    parser.add_argument("--no-report", action="store_true", help="skip the 5-fold out-of-fold report")
    args = parser.parse_args(argv)

    import torch

    torch.manual_seed(0)
    texts, labels = load_examples(args.data)
    embeddings = embed_normalised(texts, SentenceEmbedder())
    if not args.no_report:
        out_of_fold_report(embeddings, labels)
    coef, intercept, classes = fit(embeddings, labels)
    np.savez(
        args.out,
        coef=coef,
        intercept=intercept,
        classes=np.array([c.value for c in classes]),
        train_sha256=np.array(file_sha256(args.data)),
    )
    print(f"wrote {args.out} ({len(texts)} examples, classes {[c.value for c in classes]})")


if __name__ == "__main__":
    main()
