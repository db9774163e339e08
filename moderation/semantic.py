"""The semantic layer: a multinomial logistic regression over MiniLM embeddings of normalised text.

It reads meaning the lexicon's fixed phrases miss ("nobody at school would notice if i vanished").
The weights come from ``python -m reactclip.moderation.train`` (data/semantic_model.npz); at run
time this is one matrix product and a softmax in numpy, no scikit-learn.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from reactclip.moderation.categories import Category
from reactclip.moderation.context import Strictness

MODEL_FILE = "semantic_model.npz"


def default_model_path() -> Path:
    return Path(str(resources.files("reactclip.moderation") / "data" / MODEL_FILE))


def _default_thresholds() -> dict[Category, float]:
    # Chosen on out-of-fold predictions of the training set (see train.py's report) for the layer
    # that runs after the lexicon: the lexicon catches the plain cases, so these stay high enough
    # to keep safe chat (hyperbole, gaming, banter) from being blocked. Minors is low on purpose:
    # a miss there costs far more than a false block.
    return {
        Category.SEXUAL: 0.7,
        Category.SEXUAL_MINORS: 0.3,
        Category.VIOLENCE_GORE: 0.7,
        Category.HATE: 0.7,
        Category.SELF_HARM: 0.45,
        Category.HARASSMENT: 0.6,
    }


@dataclass(frozen=True)
class SemanticThresholds:
    """Per-category probability thresholds; ``strict_factor`` scales them down for strict guilds."""

    per_category: Mapping[Category, float] = field(default_factory=_default_thresholds)
    any_unsafe: float = 0.8
    """Flag the top unsafe category when all unsafe categories together pass this, even if their
    probability is split (a threat that is half harassment, half violence)."""
    strict_factor: float = 0.7

    def for_strictness(self, strictness: Strictness) -> tuple[Mapping[Category, float], float]:
        if strictness == "strict":
            scaled = {c: t * self.strict_factor for c, t in self.per_category.items()}
            return scaled, self.any_unsafe * self.strict_factor
        return self.per_category, self.any_unsafe


@dataclass(frozen=True)
class SemanticFinding:
    category: Category
    probability: float


class SemanticClassifier:
    """Softmax over ``embedding @ coef.T + intercept``; classes are Category values."""

    def __init__(
        self,
        coef: np.ndarray,
        intercept: np.ndarray,
        classes: list[Category],
        thresholds: SemanticThresholds | None = None,
    ) -> None:
        if coef.shape[0] != len(classes) or intercept.shape != (len(classes),):
            raise ValueError(
                f"coef {coef.shape} and intercept {intercept.shape} do not fit {len(classes)} classes"
            )
        self.coef = coef.astype(np.float32)
        self.intercept = intercept.astype(np.float32)
        self.classes = classes
        self.thresholds = thresholds or SemanticThresholds()

    @classmethod
    def load(
        cls, path: Path | None = None, thresholds: SemanticThresholds | None = None
    ) -> SemanticClassifier:
        with np.load(path or default_model_path(), allow_pickle=False) as data:
            classes = [Category(str(c)) for c in data["classes"]]
            return cls(data["coef"], data["intercept"], classes, thresholds)

    def probabilities(self, embeddings: np.ndarray) -> np.ndarray:
        """One row of class probabilities per embedding row (columns follow ``self.classes``)."""
        logits = np.atleast_2d(embeddings).astype(np.float32) @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def findings(
        self, probabilities: np.ndarray, strictness: Strictness = "standard"
    ) -> list[SemanticFinding]:
        """Unsafe categories over their threshold for one row of probabilities, likeliest first."""
        per_category, any_unsafe = self.thresholds.for_strictness(strictness)
        by_class = {c: float(p) for c, p in zip(self.classes, probabilities, strict=True)}
        unsafe = {c: p for c, p in by_class.items() if c is not Category.NONE}
        found = [SemanticFinding(c, p) for c, p in unsafe.items() if p >= per_category.get(c, 1.0)]
        if not found and unsafe and sum(unsafe.values()) >= any_unsafe:
            top = max(unsafe, key=lambda c: unsafe[c])
            found = [SemanticFinding(top, unsafe[top])]
        return sorted(found, key=lambda f: f.probability / per_category.get(f.category, 1.0), reverse=True)
