"""The optional third layer: an operator's local transformers text-classification model.

Where ``classifier_dir`` is configured (e.g. a toxicity model saved with ``save_pretrained``), its
labels are mapped to categories by a small label map. Labels about profanity alone ("toxic",
"obscene") map to nothing by default: swearing is not a reason to block.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reactclip.moderation.categories import Category

DEFAULT_LABEL_MAP: dict[str, Category | None] = {
    "toxic": None,
    "toxicity": None,
    "obscene": None,
    "profanity": None,
    "offensive": None,
    "severe_toxic": Category.HARASSMENT,
    "severe_toxicity": Category.HARASSMENT,
    "insult": Category.HARASSMENT,
    "harassment": Category.HARASSMENT,
    "bullying": Category.HARASSMENT,
    "threat": Category.VIOLENCE_GORE,
    "violence": Category.VIOLENCE_GORE,
    "gore": Category.VIOLENCE_GORE,
    "identity_hate": Category.HATE,
    "identity_attack": Category.HATE,
    "hate": Category.HATE,
    "hate_speech": Category.HATE,
    "sexual_explicit": Category.SEXUAL,
    "sexual": Category.SEXUAL,
    "nsfw": Category.SEXUAL,
    "sexual_minors": Category.SEXUAL_MINORS,
    "self_harm": Category.SELF_HARM,
    "suicide": Category.SELF_HARM,
}
DEFAULT_THRESHOLD = 0.8


def label_key(label: str) -> str:
    """ "Self-Harm", "sexual/minors", "identity attack" -> "self_harm", "sexual_minors", "identity_attack"."""
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


class TransformersClassifier:
    """``transformers.pipeline("text-classification", model=path, top_k=None)`` with a label map."""

    def __init__(
        self,
        model_dir: Path,
        label_map: Mapping[str, Category | None] | None = None,
        threshold: float = DEFAULT_THRESHOLD,
        device: str = "cpu",
    ) -> None:
        if not Path(model_dir).is_dir():
            raise FileNotFoundError(f"classifier_dir {model_dir} is not a directory with a saved model")
        from transformers import pipeline

        self.pipe: Any = pipeline("text-classification", model=str(model_dir), top_k=None, device=device)
        self.label_map = {label_key(k): v for k, v in (label_map or DEFAULT_LABEL_MAP).items()}
        self.threshold = threshold

    def scores(self, texts: list[str]) -> list[dict[Category, float]]:
        """Per text, the highest score of any label mapped to each category."""
        outputs = self.pipe(texts, truncation=True)
        results = []
        for labels in outputs:
            by_category: dict[Category, float] = {}
            for item in labels:
                category = self.label_map.get(label_key(item["label"]))
                if category is not None and category is not Category.NONE:
                    by_category[category] = max(by_category.get(category, 0.0), float(item["score"]))
            results.append(by_category)
        return results

    def findings(
        self, scores: dict[Category, float], threshold: float | None = None
    ) -> list[tuple[Category, float]]:
        limit = self.threshold if threshold is None else threshold
        found = [(c, s) for c, s in scores.items() if s >= limit]
        return sorted(found, key=lambda f: f[1], reverse=True)
