"""Failover: after ``threshold`` consecutive failures, switch to the next backup backend; a
periodic probe of the primary switches back once it works again.

The chain is "primary" (each request's own variant backend) followed by the configured fallbacks,
the last of which should be the sticker renderer, which needs no GPU and no weights.
"""

from __future__ import annotations

import logging

from reactclip.engine.executor.alerts import FailoverAlert

log = logging.getLogger(__name__)


class Failover:
    """Which link of the backend chain is active, and how many failures in a row it has had."""

    def __init__(self, fallbacks: list[str], threshold: int) -> None:
        self.fallbacks = list(fallbacks)
        self.threshold = threshold
        self.level = 0
        """0 = primary; n = fallbacks[n - 1]."""
        self.consecutive = 0

    @property
    def on_primary(self) -> bool:
        return self.level == 0

    def backend_for(self, variant: str) -> str:
        """The chain entry that should run a job of this variant now."""
        return variant if self.on_primary else self.fallbacks[self.level - 1]

    def describe(self) -> str:
        return "primary" if self.on_primary else self.fallbacks[self.level - 1]

    def record_success(self) -> None:
        self.consecutive = 0

    def record_failure(self, backend: str, error: BaseException) -> FailoverAlert | None:
        """Count a failure of ``backend``; an Alert when this one crosses the threshold (the active
        link moves down the chain where there is one left)."""
        if backend != self.backend_for(backend):
            return None  # a late failure from a link we already left
        self.consecutive += 1
        if self.consecutive < self.threshold:
            return None
        failures, self.consecutive = self.consecutive, 0
        before = self.describe()
        if self.level < len(self.fallbacks):
            self.level += 1
        return FailoverAlert(failures, before, self.describe(), f"{type(error).__name__}: {error}")

    def recover(self) -> None:
        self.level = 0
        self.consecutive = 0
