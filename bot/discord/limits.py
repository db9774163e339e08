"""How much one user and one guild may ask at once. The executor's own queue cap (Busy, "busy, try
again in N s") sits behind these; these keep one person or one server from filling it."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class LimitReached(Exception):
    """A request over a limit; ``str(exc)`` is the polite line to show."""

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Cooldown:
    """At most one accepted request per user every ``seconds``."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._last: dict[int, float] = {}

    def retry_after(self, user_id: int) -> float:
        """Seconds until ``user_id`` may ask again; 0 if now."""
        last = self._last.get(user_id)
        if last is None:
            return 0.0
        return max(0.0, last + self.seconds - self._clock())

    def hit(self, user_id: int) -> None:
        """Accept a request from ``user_id`` now, or raise LimitReached."""
        wait = self.retry_after(user_id)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise LimitReached(f"slow down a little: you can ask again in {seconds} s", seconds)
        now = self._clock()
        self._last[user_id] = now
        # Forget users whose cooldown is over, so the map stays as small as the active users.
        if len(self._last) > 1024:
            self._last = {uid: t for uid, t in self._last.items() if t + self.seconds > now}

    def forget(self, user_id: int) -> None:
        """Give the request back (nothing was made, e.g. the executor was busy)."""
        self._last.pop(user_id, None)


class GuildConcurrency:
    """At most ``cap`` clips in the making per guild. DMs (guild None) are limited per user by the
    cooldown only."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._active: dict[int, int] = {}

    def active(self, guild_id: int | None) -> int:
        return 0 if guild_id is None else self._active.get(guild_id, 0)

    @contextmanager
    def slot(self, guild_id: int | None) -> Iterator[None]:
        """Hold one of the guild's slots for the duration, or raise LimitReached."""
        if guild_id is None:
            yield
            return
        if self._active.get(guild_id, 0) >= self.cap:
            raise LimitReached(
                f"this server already has {self.cap} clips in the making; try again in a moment"
            )
        self._active[guild_id] = self._active.get(guild_id, 0) + 1
        try:
            yield
        finally:
            left = self._active[guild_id] - 1
            if left:
                self._active[guild_id] = left
            else:
                del self._active[guild_id]
