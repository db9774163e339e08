"""The semantic layer: a tuned head on MiniLM's token states, blended with n-grams of normalised text.

It reads meaning the lexicon's fixed phrases miss ("nobody at school would notice if i vanished").
Two models trained on the same data are blended: MiniLM's top layers fine-tuned for the categories
(meaning, tuned.py) and a logistic regression over character and word n-grams (spelling and slang,
ngram.py). The weights, the blend weight and the per-category thresholds all come from
``python -m reactclip.moderation.train`` (data/moderation_head.safetensors, data/semantic_model.npz,
data/ngram_model.npz), which chooses the blend and thresholds on out-of-fold predictions; at run
time there is no scikit-learn.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from reactclip.moderation.categories import UNSAFE, Category
from reactclip.moderation.context import Strictness
from reactclip.moderation.ngram import NgramClassifier
from reactclip.moderation.ngram import default_model_path as default_ngram_path
from reactclip.textmodel.embedder import Encoded
from reactclip.textmodel.tuned import HeadModel, TunedHead

if TYPE_CHECKING:
    import torch

MODEL_FILE = "semantic_model.npz"
HEAD_FILE = "moderation_head.safetensors"


def default_model_path() -> Path:
    return Path(str(resources.files("reactclip.moderation") / "data" / MODEL_FILE))


def default_head_path() -> Path:
    return default_model_path().with_name(HEAD_FILE)


def _default_thresholds() -> dict[Category, float]:
    # Used only where a model file carries no thresholds of its own (a hand-built classifier).
    # The shipped model's thresholds are chosen by train.py on out-of-fold predictions of the
    # blended layer and stored with its weights. Minors is low on purpose: a miss there costs far
    # more than a false block.
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
    """Flag the top blocked category when all categories blocked in the context together pass this,
    even if their probability is split (a threat that is half harassment, half violence)."""
    strict_factor: float = 0.7
    real_person_sexual: Mapping[str, float] = field(default_factory=dict)
    """Per kind of identity (real_person.Identity values): the sexual probability that makes a
    request about a real, identifiable person sexual (text.py). Below the sexual threshold, since
    there a miss costs someone's dignity; per kind, because the layer's prior differs (a celebrity's
    name alone leans sexual, "my friend" does not). Chosen by train.py out of fold."""
    real_person_default: float = 0.5
    """For a kind with no threshold of its own."""

    def real_person_threshold(self, identity: str, strictness: Strictness) -> float:
        threshold = self.real_person_sexual.get(identity, self.real_person_default)
        return threshold * self.strict_factor if strictness == "strict" else threshold

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
    """The tuned moderation head (tuned.py) blended with an n-gram model where one is given:
    ``(1 - ngram_weight) * p_head + ngram_weight * p_ngram``; classes are Category values."""

    def __init__(
        self,
        head: HeadModel,
        thresholds: SemanticThresholds | None = None,
        *,
        ngram: NgramClassifier | None = None,
        ngram_weight: float = 0.5,
    ) -> None:
        classes = [Category(c) for c in head.classes]
        if ngram is not None and set(ngram.classes) != set(classes):
            raise ValueError(f"n-gram classes {ngram.classes} differ from the head's {classes}")
        if not 0.0 <= ngram_weight <= 1.0:
            raise ValueError(f"ngram_weight must be within [0, 1], got {ngram_weight}")
        self.head = head
        self.classes = classes
        self.thresholds = thresholds or SemanticThresholds()
        self.ngram = ngram
        self.ngram_weight = ngram_weight if ngram is not None else 0.0
        # Column order of the n-gram model's output mapped onto ours.
        self._ngram_columns = [ngram.classes.index(c) for c in classes] if ngram is not None else []

    def column(self, category: Category) -> int | None:
        """Where ``category`` stands in a row of ``probabilities``; None if the layer lacks it."""
        return self.classes.index(category) if category in self.classes else None

    @property
    def start_layer(self) -> int:
        """The encoder layer whose token states the head takes (``Embedder.encode_states``)."""
        return self.head.start_layer

    @classmethod
    def load(
        cls,
        encoder_layers: torch.nn.ModuleList,
        path: Path | None = None,
        thresholds: SemanticThresholds | None = None,
        *,
        head_path: Path | None = None,
        ngram_path: Path | None = None,
        run_head: Callable[[TunedHead], HeadModel] | None = None,
    ) -> SemanticClassifier:
        """The shipped (or given) layer on top of ``encoder_layers`` (the embedder's); its stored
        thresholds unless ``thresholds`` is given. ``run_head``: where the head runs
        (``Embedder.run_head``); PyTorch without it."""
        loaded = TunedHead.load(encoder_layers, head_path or default_head_path())
        head = run_head(loaded) if run_head is not None else loaded
        with np.load(path or default_model_path(), allow_pickle=False) as data:
            classes = [Category(str(c)) for c in data["classes"]]
            if classes != head.classes:
                raise ValueError(f"{path} is for classes {classes}, the head has {head.classes}")
            if thresholds is None and "thresholds" in data:
                stored = {c: float(t) for c, t in zip(classes, data["thresholds"], strict=True)}
                thresholds = SemanticThresholds(
                    per_category={c: t for c, t in stored.items() if c is not Category.NONE},
                    any_unsafe=float(data["any_unsafe"]),
                    real_person_sexual={
                        str(k): float(t)
                        for k, t in zip(data["real_person_kinds"], data["real_person_sexual"], strict=True)
                    }
                    if "real_person_kinds" in data
                    else {},
                )
            ngram_weight = float(data["ngram_weight"]) if "ngram_weight" in data else 0.0
        ngram = NgramClassifier.load(ngram_path or default_ngram_path()) if ngram_weight > 0 else None
        return cls(head, thresholds, ngram=ngram, ngram_weight=ngram_weight)

    def probabilities(self, encoded: Encoded, normalized_texts: list[str] | None = None) -> np.ndarray:
        """One row of class probabilities per sentence of ``encoded`` (columns follow ``classes``).

        ``normalized_texts`` (``normalize(text)`` per row) lets the n-gram model take its share;
        without them the head speaks alone.
        """
        probabilities = self.head.probabilities(encoded)
        if self.ngram is None or normalized_texts is None or self.ngram_weight == 0.0:
            return probabilities
        if len(normalized_texts) != probabilities.shape[0]:
            raise ValueError(f"{len(normalized_texts)} texts for {probabilities.shape[0]} encoded rows")
        ngram = self.ngram.probabilities(normalized_texts)[:, self._ngram_columns]
        return (1.0 - self.ngram_weight) * probabilities + self.ngram_weight * ngram

    def findings(
        self,
        probabilities: np.ndarray,
        strictness: Strictness = "standard",
        blocked: Collection[Category] = UNSAFE,
    ) -> list[SemanticFinding]:
        """Unsafe categories over their threshold for one row of probabilities: sexual_minors first,
        then the furthest past its threshold first.

        Each category is judged on its own probability, not only the most likely one: in an NSFW
        channel a message that is mostly sexual but also harassment still yields harassment.
        ``blocked``: the categories the context blocks; only they count towards ``any_unsafe``.
        """
        per_category, any_unsafe = self.thresholds.for_strictness(strictness)
        by_class = {c: float(p) for c, p in zip(self.classes, probabilities, strict=True)}
        unsafe = {c: p for c, p in by_class.items() if c is not Category.NONE}
        found = [SemanticFinding(c, p) for c, p in unsafe.items() if p >= per_category.get(c, 1.0)]
        blocked_here = {c: p for c, p in unsafe.items() if c in blocked}
        if (
            not any(f.category in blocked for f in found)
            and blocked_here
            and sum(blocked_here.values()) >= any_unsafe
        ):
            top = max(blocked_here, key=lambda c: blocked_here[c])
            found.append(SemanticFinding(top, blocked_here[top]))
        # Minors first wherever it shows (as in the lexicon), then by how far past its threshold.
        return sorted(
            found,
            key=lambda f: (
                f.category is not Category.SEXUAL_MINORS,
                -f.probability / per_category.get(f.category, 1.0),
            ),
        )
