"""RedisClipStore against the real server on 127.0.0.1:6379 (skipped when none answers; failed
instead in CI, which sets REACTCLIP_REQUIRE_REDIS=1)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

import pytest
import redis

from reactclip.engine.cache import RedisClipStore
from reactclip.engine.clip import Clip

pytestmark = pytest.mark.redis

ClipFactory = Callable[..., Clip]
KB = 1024


def test_put_then_get_returns_the_same_bytes_and_metadata_as_a_hit(
    redis_url: str, redis_prefix: str, clip_factory: ClipFactory
) -> None:
    clip = clip_factory(data=os.urandom(300 * KB))

    async def scenario() -> tuple[Clip | None, Clip | None]:
        store = RedisClipStore(redis_url, ttl_s=60, max_entry_bytes=1024 * KB, prefix=redis_prefix)
        try:
            miss = await store.get("k")
            assert await store.put("k", clip)
            return miss, await store.get("k")
        finally:
            await store.close()

    miss, hit = asyncio.run(scenario())
    assert miss is None
    assert hit is not None and hit.cache_hit
    assert hit.data == clip.data
    assert hit.metadata() | {"cache_hit": False} == clip.metadata()
    assert hit.inspection == clip.inspection


def test_entries_carry_a_ttl_that_a_hit_renews(
    redis_url: str, redis_prefix: str, clip_factory: ClipFactory
) -> None:
    raw = redis.Redis.from_url(redis_url)

    async def scenario() -> None:
        store = RedisClipStore(redis_url, ttl_s=120, max_entry_bytes=1024 * KB, prefix=redis_prefix)
        try:
            await store.put("k", clip_factory())
            assert 110 <= raw.ttl(redis_prefix + "k") <= 120
            raw.expire(redis_prefix + "k", 5)
            assert await store.get("k") is not None
            assert 110 <= raw.ttl(redis_prefix + "k") <= 120
        finally:
            await store.close()

    try:
        asyncio.run(scenario())
    finally:
        raw.close()


def test_an_entry_larger_than_max_entry_bytes_is_refused(
    redis_url: str, redis_prefix: str, clip_factory: ClipFactory
) -> None:
    raw = redis.Redis.from_url(redis_url)

    async def scenario() -> None:
        store = RedisClipStore(redis_url, ttl_s=60, max_entry_bytes=64 * KB, prefix=redis_prefix)
        try:
            assert not await store.put("big", clip_factory(data=b"b" * 64 * KB))
            assert await store.get("big") is None
            assert await store.put("small", clip_factory(data=b"s" * 32 * KB))
        finally:
            await store.close()

    try:
        asyncio.run(scenario())
        assert not raw.exists(redis_prefix + "big")
        assert raw.exists(redis_prefix + "small")
    finally:
        raw.close()


def test_two_stores_like_two_bot_processes_share_entries(
    redis_url: str, redis_prefix: str, clip_factory: ClipFactory
) -> None:
    clip = clip_factory(data=os.urandom(50 * KB))

    async def scenario() -> None:
        shard_a = RedisClipStore(redis_url, ttl_s=60, max_entry_bytes=1024 * KB, prefix=redis_prefix)
        shard_b = RedisClipStore(redis_url, ttl_s=60, max_entry_bytes=1024 * KB, prefix=redis_prefix)
        try:
            assert await shard_a.put("k", clip)
            hit = await shard_b.get("k")
            assert hit is not None and hit.data == clip.data
            await shard_b.delete("k")
            assert await shard_a.get("k") is None
        finally:
            await shard_a.close()
            await shard_b.close()

    asyncio.run(scenario())


def test_stats_count_this_prefix_only(redis_url: str, redis_prefix: str, clip_factory: ClipFactory) -> None:
    async def scenario() -> None:
        store = RedisClipStore(redis_url, ttl_s=60, max_entry_bytes=1024 * KB, prefix=redis_prefix + "a:")
        other = RedisClipStore(redis_url, ttl_s=60, max_entry_bytes=1024 * KB, prefix=redis_prefix + "b:")
        try:
            await store.put("x", clip_factory(data=b"x" * 100))
            await store.put("y", clip_factory(data=b"y" * 50))
            await other.put("z", clip_factory(data=b"z" * 1000))
            await store.get("x")
            await store.get("nope")
            stats = await store.stats()
            assert (stats.entries, stats.bytes, stats.hits, stats.misses) == (2, 150, 1, 1)
        finally:
            await store.close()
            await other.close()

    asyncio.run(scenario())


def test_a_corrupt_entry_is_a_miss_and_is_dropped(
    redis_url: str, redis_prefix: str, clip_factory: ClipFactory
) -> None:
    raw = redis.Redis.from_url(redis_url)

    async def scenario() -> None:
        store = RedisClipStore(redis_url, ttl_s=60, max_entry_bytes=1024 * KB, prefix=redis_prefix)
        try:
            await store.put("k", clip_factory())
            raw.hset(redis_prefix + "k", "data", b"not the clip")
            assert await store.get("k") is None
        finally:
            await store.close()

    try:
        asyncio.run(scenario())
        assert not raw.exists(redis_prefix + "k")
    finally:
        raw.close()


def test_an_unreachable_server_reads_as_a_miss_and_a_failed_put(clip_factory: ClipFactory) -> None:
    # Port 1 on loopback: nothing listens, so the connection is refused at once.
    async def scenario() -> None:
        store = RedisClipStore("redis://127.0.0.1:1/0", ttl_s=60, max_entry_bytes=1024 * KB)
        try:
            assert await store.get("k") is None
            assert not await store.put("k", clip_factory())
            assert not await store.ping()
        finally:
            await store.close()

    asyncio.run(scenario())
