"""How often one user may ask. The executor's own queue bounds sit behind this (its cap and each
guild's share of it, answered with "busy, try again in N s"); a request within them waits in the
queue, showing its place, rather than being refused.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from discord.ext import commands


class LimitReached(Exception):
    """A request over a limit; ``str(exc)`` is the polite line to show."""

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Cooldown:
    """At most one accepted request per key (a user, a channel) every ``seconds``: discord.py's
    cooldown mapping, keyed by id, on ``clock`` (tests pass a fake one)."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._buckets: commands.CooldownMapping[int] = commands.CooldownMapping.from_cooldown(
            1, seconds, lambda key: key
        )

    def retry_after(self, key: int) -> float:
        """Seconds until ``key`` may ask again; 0 if now."""
        if self.seconds <= 0:
            return 0.0
        now = self._clock()
        bucket = self._buckets.get_bucket(key, now)
        return max(0.0, bucket.get_retry_after(now)) if bucket is not None else 0.0

    def hit(self, key: int) -> None:
        """Accept a request from ``key`` now, or raise LimitReached."""
        if self.seconds <= 0:
            return
        now = self._clock()
        bucket = self._buckets.get_bucket(key, now)
        if bucket is None:
            return
        wait = bucket.get_retry_after(now)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise LimitReached(f"slow down a little: you can ask again in {seconds} s", seconds)
        # A window that has just run out counts as over (discord.py keeps it until strictly past).
        bucket.reset()
        bucket.update_rate_limit(now)

    def forget(self, key: int) -> None:
        """Give the request back (nothing was made, e.g. the executor was busy)."""
        bucket = self._buckets.get_bucket(key, self._clock())
        if bucket is not None:
            bucket.reset()
