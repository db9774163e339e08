"""The n-gram half of the semantic layer: a logistic regression over TF-IDF character and word n-grams.

MiniLM reads meaning; character n-grams read spelling: slang, stems and half-undone evasions
("unaliv", "sewer", "groom", "🍆" already read as "eggplant") that the embedding blurs. Both are
trained on the same data and their probabilities are blended (semantic.py). At run time this is a
dictionary look-up per n-gram and one small product in numpy, no scikit-learn; ``ngram_features``
is the very function the training vectoriser used, so the two cannot drift apart.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from importlib import resources
from pathlib import Path

import numpy as np

from reactclip.moderation.categories import Category

MODEL_FILE = "ngram_model.npz"
CHAR_SIZES = (2, 3, 4, 5)
_WORD = re.compile(r"[a-z0-9']+|[^\sa-z0-9]")
# normalize() folds every whitespace to " ", so a tab cannot occur inside a character n-gram.
_WORD_PREFIX = "\t"


def default_model_path() -> Path:
    return Path(str(resources.files("reactclip.moderation") / "data" / MODEL_FILE))


def ngram_features(normalized: str) -> list[str]:
    """Character 2-5-grams inside space-padded words (like scikit-learn's "char_wb"), plus word
    unigrams and bigrams, of an already normalised text."""
    features: list[str] = []
    for word in normalized.split():
        padded = f" {word} "
        for n in CHAR_SIZES:
            if n > len(padded):
                break
            features.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    words = _WORD.findall(normalized)
    features.extend(_WORD_PREFIX + w for w in words)
    features.extend(f"{_WORD_PREFIX}{a} {b}" for a, b in itertools.pairwise(words))
    return features


class NgramClassifier:
    """Softmax over sublinear TF-IDF (l2-normalised) n-gram vectors; classes are Category values."""

    def __init__(
        self,
        vocabulary: list[str],
        idf: np.ndarray,
        coef: np.ndarray,
        intercept: np.ndarray,
        classes: list[Category],
    ) -> None:
        if coef.shape != (len(vocabulary), len(classes)) or idf.shape != (len(vocabulary),):
            raise ValueError(
                f"coef {coef.shape} and idf {idf.shape} do not fit {len(vocabulary)} n-grams "
                f"and {len(classes)} classes"
            )
        self.index = {feature: i for i, feature in enumerate(vocabulary)}
        self.idf = idf.astype(np.float32)
        self.coef = coef.astype(np.float32)
        self.intercept = intercept.astype(np.float32)
        self.classes = classes

    @classmethod
    def load(cls, path: Path | None = None) -> NgramClassifier:
        with np.load(path or default_model_path(), allow_pickle=False) as data:
            vocabulary = str(data["vocabulary"]).split("\n")
            classes = [Category(str(c)) for c in data["classes"]]
            return cls(vocabulary, data["idf"], data["coef"], data["intercept"], classes)

    def _logits(self, normalized: str) -> np.ndarray:
        counts = Counter(i for i in map(self.index.get, ngram_features(normalized)) if i is not None)
        if not counts:
            return self.intercept.copy()
        columns = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float32, count=len(counts)))
        weights = tf * self.idf[columns]
        weights /= np.linalg.norm(weights)
        return weights @ self.coef[columns] + self.intercept

    def probabilities(self, normalized_texts: list[str]) -> np.ndarray:
        """One row of class probabilities per text (columns follow ``self.classes``)."""
        logits = np.stack([self._logits(t) for t in normalized_texts]) if normalized_texts else None
        if logits is None:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)
