"""LocalClipStore: an SQLite index plus files, LRU under a size cap, shared by several processes."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reactclip.engine.cache import LocalClipStore, cache_key
from reactclip.engine.cache import local as local_module
from reactclip.engine.clip import Clip
from reactclip.engine.spec import GenerationSpec

ClipFactory = Callable[..., Clip]
KB = 1024


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalClipStore]:
    store = LocalClipStore(tmp_path / "cache", max_bytes=10 * 1024 * KB)
    yield store
    store.close_sync()


def clip_files(root: Path) -> list[Path]:
    return sorted(p for p in (root / "clips").rglob("*") if p.is_file())


def test_put_then_get_returns_the_same_bytes_and_metadata_as_a_hit(
    store: LocalClipStore, clip_factory: ClipFactory
) -> None:
    clip = clip_factory(data=os.urandom(300 * KB))
    key = cache_key(clip.spec, clip.variant, "rev1")

    async def scenario() -> Clip | None:
        assert await store.put(key, clip)
        return await store.get(key)

    hit = asyncio.run(scenario())
    assert hit is not None and hit.cache_hit
    assert hit.data == clip.data
    assert hit.metadata() | {"cache_hit": False} == clip.metadata()
    assert hit.inspection == clip.inspection and hit.spec == clip.spec


def test_an_unknown_key_is_a_miss_and_counted(store: LocalClipStore) -> None:
    assert asyncio.run(store.get("0" * 64)) is None
    stats = asyncio.run(store.stats())
    assert (stats.entries, stats.bytes, stats.hits, stats.misses) == (0, 0, 0, 1)


def test_stats_count_entries_bytes_hits_and_misses(store: LocalClipStore, clip_factory: ClipFactory) -> None:
    async def scenario() -> None:
        await store.put("a", clip_factory(data=b"x" * 100))
        await store.put("b", clip_factory(data=b"y" * 50))
        await store.get("a")
        await store.get("a")
        await store.get("c")

    asyncio.run(scenario())
    stats = store.stats_sync()
    assert (stats.entries, stats.bytes, stats.hits, stats.misses) == (2, 150, 2, 1)
    assert stats.hit_rate == pytest.approx(2 / 3)


def test_put_replaces_an_entry_and_removes_its_old_file(
    store: LocalClipStore, clip_factory: ClipFactory
) -> None:
    store.put_sync("k", clip_factory(data=b"old" * 10))
    store.put_sync("k", clip_factory(data=b"new" * 10))
    hit = store.get_sync("k")
    assert hit is not None and hit.data == b"new" * 10
    assert len(clip_files(store.root)) == 1


def test_delete_forgets_the_entry_and_its_file(store: LocalClipStore, clip_factory: ClipFactory) -> None:
    store.put_sync("k", clip_factory())
    asyncio.run(store.delete("k"))
    asyncio.run(store.delete("never-stored"))
    assert store.get_sync("k") is None
    assert clip_files(store.root) == []


def test_entries_persist_for_another_store_on_the_same_root(
    tmp_path: Path, clip_factory: ClipFactory
) -> None:
    clip = clip_factory()
    first = LocalClipStore(tmp_path, max_bytes=1024 * KB)
    first.put_sync("k", clip)
    first.close_sync()
    second = LocalClipStore(tmp_path, max_bytes=1024 * KB)
    try:
        hit = second.get_sync("k")
        assert hit is not None and hit.data == clip.data
    finally:
        second.close_sync()


def test_eviction_drops_the_least_recently_used_not_the_oldest(
    tmp_path: Path, clip_factory: ClipFactory
) -> None:
    store = LocalClipStore(tmp_path, max_bytes=3 * 100 * KB)
    clips = {name: clip_factory(data=os.urandom(100 * KB)) for name in "abcd"}

    async def scenario() -> None:
        for name in "abc":
            assert await store.put(name, clips[name])
        assert await store.get("a") is not None  # a is now more recent than b and c
        assert await store.put("d", clips["d"])  # over the cap: b goes

    try:
        asyncio.run(scenario())
        assert store.get_sync("b") is None
        for name in "acd":
            hit = store.get_sync(name)
            assert hit is not None and hit.data == clips[name].data
        stats = store.stats_sync()
        assert stats.entries == 3 and stats.bytes <= store.max_bytes
        assert len(clip_files(tmp_path)) == 3
    finally:
        store.close_sync()


def test_a_clip_larger_than_the_whole_cache_is_not_stored(tmp_path: Path, clip_factory: ClipFactory) -> None:
    store = LocalClipStore(tmp_path, max_bytes=10 * KB)
    try:
        assert store.put_sync("small", clip_factory(data=b"s" * KB))
        assert not asyncio.run(store.put("big", clip_factory(data=b"b" * 11 * KB)))
        assert store.get_sync("big") is None
        assert store.get_sync("small") is not None
    finally:
        store.close_sync()


def test_a_missing_file_is_a_miss_and_its_row_is_dropped(
    store: LocalClipStore, clip_factory: ClipFactory
) -> None:
    store.put_sync("k", clip_factory())
    (file,) = clip_files(store.root)
    file.unlink()
    assert asyncio.run(store.get("k")) is None
    assert store.stats_sync().entries == 0


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty"])
def test_a_corrupt_file_is_a_miss_and_is_removed(
    store: LocalClipStore, clip_factory: ClipFactory, damage: str
) -> None:
    store.put_sync("k", clip_factory(data=os.urandom(4 * KB)))
    (file,) = clip_files(store.root)
    data = file.read_bytes()
    damaged = {"truncate": data[: len(data) // 2], "flip": bytes([data[0] ^ 1]) + data[1:], "empty": b""}
    file.write_bytes(damaged[damage])
    assert store.get_sync("k") is None
    assert store.stats_sync().entries == 0
    assert clip_files(store.root) == []


def test_a_write_that_fails_midway_leaves_no_entry_no_temp_file_and_the_old_entry(
    store: LocalClipStore, clip_factory: ClipFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = clip_factory(data=b"old" * 100)
    store.put_sync("k", old)

    def disk_full(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(local_module.os, "replace", disk_full)
    assert asyncio.run(store.put("k", clip_factory(data=b"new" * 100))) is False
    monkeypatch.undo()
    hit = store.get_sync("k")
    assert hit is not None and hit.data == old.data
    assert list((store.root / "tmp").iterdir()) == []
    assert len(clip_files(store.root)) == 1


def test_a_closed_store_refuses_work(tmp_path: Path) -> None:
    store = LocalClipStore(tmp_path, max_bytes=KB)
    asyncio.run(store.close())
    with pytest.raises(RuntimeError, match="closed"):
        asyncio.run(store.get("k"))


# -- several processes on one root ------------------------------------------------------------------

KEYS = [f"key{i}" for i in range(8)]


def payload(key: str) -> bytes:
    """The one correct content for ``key``: a reader can tell any other bytes apart."""
    size = 20 * KB + 7 * KB * KEYS.index(key)
    return (key.encode() * (size // len(key) + 1))[:size]


def _worker(root: str, seed: int, rounds: int, results: multiprocessing.Queue) -> None:
    rng = random.Random(seed)
    store = LocalClipStore(Path(root), max_bytes=150 * KB)  # room for ~4 of the 8 keys: constant eviction
    spec = GenerationSpec(prompt="a happy cat")
    problems: list[str] = []
    hits = misses = 0

    async def work() -> None:
        nonlocal hits, misses
        for _ in range(rounds):
            key = rng.choice(KEYS)
            if rng.random() < 0.4:
                clip = Clip(
                    data=payload(key), format=spec.format, frames=16, width=832, height=480, fps=12,
                    spec=spec, backend="test", variant=key,
                )  # fmt: skip
                if not await store.put(key, clip):
                    problems.append(f"put {key} failed")
            else:
                hit = await store.get(key)
                if hit is None:
                    misses += 1
                elif hit.data != payload(key) or hit.variant != key:
                    problems.append(f"get {key} returned {len(hit.data)} wrong bytes")
                else:
                    hits += 1

    try:
        asyncio.run(work())
    except Exception as error:  # reported to the parent, which fails the test
        problems.append(f"{type(error).__name__}: {error}")
    finally:
        store.close_sync()
    results.put((problems, hits, misses))


def test_several_processes_reading_and_writing_one_root_see_whole_clips_or_misses(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # fork: the worker is defined in this test module, which a spawned child could not import.
    ctx = multiprocessing.get_context("fork")
    results: multiprocessing.Queue = ctx.Queue()
    LocalClipStore(tmp_path, max_bytes=150 * KB).close_sync()  # create the index once, like a deploy
    workers = [ctx.Process(target=_worker, args=(str(tmp_path), seed, 150, results)) for seed in range(6)]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    problems = [problem for outcome in outcomes for problem in outcome[0]]
    assert problems == []
    assert sum(outcome[1] for outcome in outcomes) > 0, "no process ever read another's clip"
    # The index and the files still agree: every row's file is there, no file is left without a row.
    store = LocalClipStore(tmp_path, max_bytes=150 * KB)
    try:
        stats = store.stats_sync()
        assert stats.bytes <= 150 * KB
        assert stats.entries == len(clip_files(tmp_path))
        for key in KEYS:
            hit = store.get_sync(key)
            assert hit is None or hit.data == payload(key)
        assert list((tmp_path / "tmp").iterdir()) == []
    finally:
        store.close_sync()
