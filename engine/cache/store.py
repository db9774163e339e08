"""The one interface every clip store meets: local (SQLite index + files) and Redis (shared).

A store is an optimisation, never a reason for a request to fail: ``get`` answers a miss and ``put``
answers False when the store cannot be read or written (and log why), so the caller generates as if
there were no cache.

What a store must never hold is the caller's to keep out: a refused request never reaches generation,
and a clip whose frames a policy blocked is not put. Each clip keeps its ``inspection`` so every
request's own policy judges a hit as it would judge a fresh clip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from reactclip.engine.clip import Clip


@dataclass(frozen=True)
class CacheStats:
    """``entries`` and ``bytes`` describe the whole store (all processes); ``hits`` and ``misses``
    count this store object's own answers since it opened."""

    entries: int
    bytes: int
    hits: int
    misses: int

    @property
    def hit_rate(self) -> float:
        asked = self.hits + self.misses
        return self.hits / asked if asked else 0.0


class ClipStore(Protocol):
    """Clips by cache key (see ``cache_key``)."""

    async def get(self, key: str) -> Clip | None:
        """The clip stored under ``key`` with ``cache_hit=True``, or None (a miss)."""
        ...

    async def put(self, key: str, clip: Clip) -> bool:
        """Store ``clip`` under ``key``, replacing any entry; False where the store refused it (too
        large) or could not write it."""
        ...

    async def delete(self, key: str) -> None:
        """Forget ``key``; no error when it is absent."""
        ...

    async def stats(self) -> CacheStats: ...

    async def close(self) -> None:
        """Release connections; the store is not used afterwards."""
        ...
