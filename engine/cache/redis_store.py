"""The shared clip store: one Redis for many bot processes and GPU workers.

Each clip is one hash (``meta`` JSON and ``data`` bytes) under ``prefix + key`` with a TTL that a hit
renews, so hot prompts stay while cold ones expire. Memory is the server's to bound: run it with
``maxmemory`` set (a cap that leaves room for the job queue) and ``maxmemory-policy allkeys-lru``, so
that under pressure Redis evicts the least recently used clips instead of refusing writes. If the
job queue shares the server, prefer ``volatile-lru`` and leave queue keys without a TTL, so only
clips can be evicted. The store itself refuses any entry larger than ``max_entry_bytes``, so one
huge clip cannot push out many small hot ones.

A redis.asyncio client belongs to the event loop that first uses it: create, use and close a store
within one loop.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import redis.asyncio as redis
from redis.exceptions import RedisError

from reactclip.engine.cache.record import CorruptRecord, decode_record, encode_record
from reactclip.engine.cache.store import CacheStats
from reactclip.engine.clip import Clip

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "reactclip:clip:"


class RedisClipStore:
    """Clips in the Redis at ``url`` (``redis://host:6379/0``), each kept ``ttl_s`` seconds after
    its last put or hit."""

    def __init__(
        self,
        url: str,
        ttl_s: int,
        max_entry_bytes: int,
        prefix: str = DEFAULT_PREFIX,
        *,
        socket_timeout_s: float = 2.0,
    ) -> None:
        if ttl_s <= 0:
            raise ValueError(f"ttl_s must be positive, got {ttl_s}")
        if max_entry_bytes <= 0:
            raise ValueError(f"max_entry_bytes must be positive, got {max_entry_bytes}")
        self.ttl_s = ttl_s
        self.max_entry_bytes = max_entry_bytes
        self.prefix = prefix
        # A cache that hangs is worse than none: bounded timeouts turn an unreachable server into
        # misses within seconds.
        self._redis = redis.Redis.from_url(
            url, socket_timeout=socket_timeout_s, socket_connect_timeout=socket_timeout_s
        )
        self._hits = 0
        self._misses = 0

    async def get(self, key: str) -> Clip | None:
        name = self.prefix + key
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hmget(name, ["meta", "data"])
                pipe.expire(name, self.ttl_s)
                (meta, data), _ = await pipe.execute()
        except (RedisError, OSError) as error:
            log.warning("clip cache read failed for %s: %s", key, error)
            self._misses += 1
            return None
        if meta is None or data is None:
            self._misses += 1
            return None
        try:
            clip = decode_record(meta, data)
        except CorruptRecord as error:
            log.info("clip cache entry %s is unreadable (%s); dropping it", key, error)
            await self._delete_quietly(name)
            self._misses += 1
            return None
        self._hits += 1
        return clip

    async def put(self, key: str, clip: Clip) -> bool:
        meta, data = encode_record(clip)
        if len(meta) + len(data) > self.max_entry_bytes:
            log.warning(
                "clip of %d bytes not cached: entries are capped at %d bytes",
                len(meta) + len(data),
                self.max_entry_bytes,
            )
            return False
        name = self.prefix + key
        try:
            # MULTI/EXEC: no other client ever sees the hash without its TTL, or half of it.
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(name)
                pipe.hset(name, mapping={"meta": meta, "data": data})
                pipe.expire(name, self.ttl_s)
                await pipe.execute()
        except (RedisError, OSError) as error:
            log.warning("clip cache write failed for %s: %s", key, error)
            return False
        return True

    async def delete(self, key: str) -> None:
        await self._redis.delete(self.prefix + key)

    async def stats(self) -> CacheStats:
        """Walks the prefix with SCAN (never KEYS, which blocks the server): meant for an operator's
        command or a periodic metric, not for every request."""
        entries = size = 0
        async for batch in self._scan_batches():
            async with self._redis.pipeline(transaction=False) as pipe:
                for name in batch:
                    pipe.hstrlen(name, "data")
                lengths = await pipe.execute()
            # A key may expire between SCAN and HSTRLEN; it then reads as 0 and is not counted.
            entries += sum(1 for length in lengths if length)
            size += sum(lengths)
        return CacheStats(entries=entries, bytes=size, hits=self._hits, misses=self._misses)

    async def close(self) -> None:
        await self._redis.aclose()

    async def ping(self) -> bool:
        """Whether the server answers (for a health check at startup)."""
        try:
            return bool(await self._redis.ping())
        except (RedisError, OSError):
            return False

    async def _scan_batches(self, count: int = 500) -> AsyncIterator[list[bytes | str]]:
        cursor = 0
        while True:
            cursor, names = await self._redis.scan(cursor, match=self._match_pattern(), count=count)
            if names:
                yield names
            if cursor == 0:
                return

    def _match_pattern(self) -> str:
        # The prefix is literal; escape glob characters so a prefix like "a[1]" matches only itself.
        escaped = "".join("\\" + c if c in "*?[]\\" else c for c in self.prefix)
        return escaped + "*"

    async def _delete_quietly(self, name: str) -> None:
        try:
            await self._redis.delete(name)
        except (RedisError, OSError) as error:
            log.warning("could not drop clip cache entry %s: %s", name, error)
