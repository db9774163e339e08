"""A/B rollout: a sticky, weighted choice of model variant per user.

A user's bucket is a hash of their key, so the same user always sees the same variant (until the
weights change) and no state needs storing or sharing between processes.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections import Counter
from itertools import accumulate

from reactclip.engine.spec import GenerationSpec

DEFAULT_VARIANT = "default"
"""The variant a spec names when it leaves the choice to the rollout."""


class VariantChooser:
    """Picks a variant for a user in proportion to the weights, e.g. {"wan-a": 0.9, "wan-b": 0.1}."""

    def __init__(self, weights: dict[str, float], salt: str = "reactclip-ab") -> None:
        if not weights or sum(weights.values()) <= 0:
            raise ValueError(f"need at least one variant with a weight above 0; got {weights}")
        if any(w < 0 for w in weights.values()):
            raise ValueError(f"variant weights must be >= 0; got {weights}")
        # Sorted names: the buckets do not depend on the order the settings listed them in.
        self.names = sorted(weights)
        total = sum(weights.values())
        self._bounds = list(accumulate(weights[name] / total for name in self.names))
        self._salt = salt
        self.assigned: Counter[str] = Counter()
        """Specs given an arm, per arm."""

    def bucket(self, user: str) -> float:
        """The user's stable position in [0, 1)."""
        digest = hashlib.sha256(f"{self._salt}:{user}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    def choose(self, user: str) -> str:
        index = bisect_right(self._bounds, self.bucket(user))
        return self.names[min(index, len(self.names) - 1)]

    def assign(self, spec: GenerationSpec, user: str) -> GenerationSpec:
        """``spec`` on the user's arm when it leaves the variant to the rollout; else as it is."""
        if spec.variant != DEFAULT_VARIANT:
            return spec
        arm = self.choose(user)
        self.assigned[arm] += 1
        return spec.replace(variant=arm)
