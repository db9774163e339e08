"""The distributed executor end to end: real Redis, a real arq worker running in the test's event
loop on the sticker renderer, and DistributedExecutor clients standing in for bot shards.

A test that needs jobs to wait enqueues them before it starts the worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Sequence
from typing import Any, TypeVar

import pytest
from arq.worker import Worker

from reactclip.engine.backends.base import Backend, BackendError, ProgressCallback, RenderedFrames, StopCheck
from reactclip.engine.backends.sticker import StickerBackend
from reactclip.engine.cache import RedisClipStore, cache_key
from reactclip.engine.encode import probe_video
from reactclip.engine.executor import (
    Busy,
    Cancelled,
    Decoding,
    Done,
    ExecutorSettings,
    InProcessExecutor,
    Priority,
    ProgressEvent,
    Queued,
    Started,
    Step,
)
from reactclip.engine.executor.distributed import ClipWorker, DistributedExecutor
from reactclip.engine.spec import GenerationSpec

pytestmark = [
    pytest.mark.redis,
    # arq 0.28 closes its pool with redis-py's deprecated close().
    pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning"),
]

T = TypeVar("T")


def run(coro: Awaitable[T]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coro, timeout=30)

    return asyncio.run(bounded())


def spec(prompt: str) -> GenerationSpec:
    return GenerationSpec(prompt=prompt, caption=prompt, width=128, height=128, frames=8, steps=2)


class RecordingSticker(StickerBackend):
    """The sticker renderer, noting the prompts of every call it gets, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[list[str]] = []

    @property
    def ran(self) -> list[str]:
        return [prompt for call in self.calls for prompt in call]

    def generate(
        self,
        specs: Sequence[GenerationSpec],
        on_progress: ProgressCallback | None = None,
        should_stop: StopCheck | None = None,
    ) -> list[RenderedFrames]:
        self.calls.append([s.prompt for s in specs])
        return super().generate(specs, on_progress, should_stop)


class BrokenBackend(RecordingSticker):
    """A primary whose every call fails, as a GPU with a broken driver would."""

    name = "broken"
    variant = "broken-v1"

    def generate(
        self,
        specs: Sequence[GenerationSpec],
        on_progress: ProgressCallback | None = None,
        should_stop: StopCheck | None = None,
    ) -> list[RenderedFrames]:
        self.calls.append([s.prompt for s in specs])
        raise BackendError("CUDA error: an illegal memory access was encountered")


class Cluster:
    """One test's Redis names, its clients and its worker."""

    def __init__(self, redis_url: str, token: str) -> None:
        self.redis_url = redis_url
        self.token = token
        self.queue = f"{token}:jobs"
        self.backend = RecordingSticker()
        self._stores: list[RedisClipStore] = []
        self._clients: list[DistributedExecutor] = []
        self._worker: tuple[Worker, asyncio.Task[None]] | None = None

    def store(self) -> RedisClipStore:
        store = RedisClipStore(self.redis_url, 60, 16 * 1024 * 1024, prefix=f"{self.token}:clip:")
        self._stores.append(store)
        return store

    def client(self, *, keyed_by_workers: bool = False, **settings: Any) -> DistributedExecutor:
        """A bot shard's executor; ``keyed_by_workers``: its cache keys name what the workers
        publish they render with, as in a deployment (else a fixed key function)."""
        client = DistributedExecutor(
            self.redis_url,
            ExecutorSettings(**settings),
            queue_name=self.queue,
            store=self.store(),
            key_fn=None if keyed_by_workers else lambda s: self.token + cache_key(s, "sticker", None),
            poll_interval_s=0.1,
        )
        self._clients.append(client)
        return client

    def start_worker(self, concurrency: int = 1, revision: str | None = None, **settings: Any) -> None:
        """A worker whose primary (every variant) is ``self.backend``; its sticker fallback is a real
        sticker renderer."""

        def backends(name: str) -> Backend:
            return StickerBackend() if name == "sticker" else self.backend

        clip_worker = ClipWorker(
            backends,
            self.redis_url,
            settings=ExecutorSettings(**({"retries": 0} | settings)),
            queue_name=self.queue,
            store=self.store(),
            concurrency=concurrency,
            revision=revision,
        )
        worker = clip_worker.create(handle_signals=False, poll_delay=0.05)
        self._worker = worker, asyncio.create_task(worker.async_run())

    async def queued(self) -> int:
        client = self._clients[0]
        redis = await client._connect()
        return int(await redis.zcard(self.queue))

    async def close(self) -> None:
        for client in self._clients:
            await client.shutdown(drain=False)
        if self._worker is not None:
            worker, task = self._worker
            await worker.close()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for store in self._stores:
            await store.close()


@contextlib.asynccontextmanager
async def cluster(redis_url: str, token: str) -> AsyncIterator[Cluster]:
    c = Cluster(redis_url, token)
    try:
        yield c
    finally:
        await c.close()


def test_a_shard_keys_clips_by_what_the_workers_render_with_never_by_its_own_machine(
    redis_url: str, redis_token: str
) -> None:
    """A GPU-less shard with backend ``auto`` would resolve it to the sticker; the key must name
    the workers' backend and weights revision, as they publish them at start."""

    async def main() -> tuple[str | None, bool, bool, bool, list[str]]:
        # Keys here carry no test token: the job ids are namespaced by the queue (this test's own).
        hello = spec("hello")
        async with cluster(redis_url, redis_token) as c:
            client = c.client(keyed_by_workers=True)
            before = await client._key(hello)
            c.start_worker(revision="rev-7")
            redis = await client._connect()
            for _ in range(200):
                if await redis.get(f"{c.queue}:renderer"):
                    break
                await asyncio.sleep(0.05)
            client._renderer = None  # read what the worker published now, not the cached absence
            first = await (await client.submit(hello)).result()
            again = await (await client.submit(hello)).result()
            expected = cache_key(hello, f"{c.backend.name}:default", "rev-7")
            stored = await c.store().get(expected) is not None
            return before, first.cache_hit, stored, again.cache_hit, c.backend.ran

    before, first_hit, stored, second_hit, ran = run(main())
    assert before is None  # no worker has said what it renders: nothing is keyed by a guess
    assert not first_hit and stored  # rendered once, stored under the workers' backend and revision
    assert second_hit and ran == ["hello"]


def test_a_request_comes_back_as_the_mp4_the_in_process_executor_makes_then_hits_the_cache(
    redis_url: str, redis_token: str
) -> None:
    async def main() -> tuple[bytes, bytes, list[ProgressEvent], bool, bool, list[str]]:
        async with InProcessExecutor(lambda name: StickerBackend()) as local:
            expected = (await (await local.submit(spec("hello"))).result()).data
        async with cluster(redis_url, redis_token) as c:
            c.start_worker()
            client = c.client()
            events: list[ProgressEvent] = []
            handle = await client.submit(spec("hello"), on_event=events.append)
            clip = await handle
            again = await (await client.submit(spec("hello"))).result()
            return expected, clip.data, events, clip.cache_hit, again.cache_hit, c.backend.ran

    expected, data, events, first_hit, second_hit, ran = run(main())
    assert data == expected
    assert probe_video(data, "mp4").codec == "h264"
    assert not first_hit and second_hit
    assert ran == ["hello"]
    kinds = [type(event) for event in events]
    # The client's Queued (its place in Redis), maybe the worker's (its place on the worker), then one run.
    started = kinds.index(Started)
    assert started >= 1 and set(kinds[:started]) == {Queued} and kinds[-2:] == [Decoding, Done]
    assert all(kind is Step for kind in kinds[started + 1 : -2]) and len(kinds) > started + 3


def test_identical_requests_from_two_shards_share_one_job_and_then_the_cache(
    redis_url: str, redis_token: str
) -> None:
    async def main() -> tuple[int, list[bytes], list[str], bool, int]:
        async with cluster(redis_url, redis_token) as c:
            shard_a, shard_b = c.client(), c.client()
            a1 = await shard_a.submit(spec("same"))
            a2 = await shard_a.submit(spec("same"))
            b = await shard_b.submit(spec("same"))
            queued = await c.queued()
            c.start_worker()
            clips = [await h for h in (a1, a2, b)]
            later = await (await c.client().submit(spec("same"))).result()
            return queued, [clip.data for clip in clips], c.backend.ran, later.cache_hit, await c.queued()

    queued, datas, ran, later_hit, left = run(main())
    assert queued == 1
    assert datas[0] == datas[1] == datas[2]
    assert ran == ["same"]
    assert later_hit
    assert left == 0


def test_an_interactive_request_runs_before_batch_work_that_was_queued_first(
    redis_url: str, redis_token: str
) -> None:
    async def main() -> list[str]:
        async with cluster(redis_url, redis_token) as c:
            client = c.client()
            handles = [await client.submit(spec(f"batch{i}"), Priority.BATCH) for i in range(3)]
            handles.append(await client.submit(spec("urgent"), Priority.INTERACTIVE))
            c.start_worker()
            await asyncio.gather(*handles)
            return c.backend.ran

    assert run(main()) == ["urgent", "batch0", "batch1", "batch2"]


def test_an_interactive_request_promotes_the_batch_job_it_joins(redis_url: str, redis_token: str) -> None:
    async def main() -> list[str]:
        async with cluster(redis_url, redis_token) as c:
            bulk, shard = c.client(), c.client()
            handles = [await bulk.submit(spec(f"batch{i}"), Priority.BATCH) for i in range(3)]
            handles.append(await shard.submit(spec("batch2"), Priority.INTERACTIVE))
            c.start_worker()
            await asyncio.gather(*handles)
            return c.backend.ran

    assert run(main()) == ["batch2", "batch0", "batch1"]


def test_requests_over_the_queue_cap_are_refused_with_busy(redis_url: str, redis_token: str) -> None:
    async def main() -> tuple[Busy, int]:
        async with cluster(redis_url, redis_token) as c:
            shard_a, shard_b = c.client(queue_cap=2), c.client(queue_cap=2)
            await shard_a.submit(spec("one"))
            await shard_b.submit(spec("two"))
            with pytest.raises(Busy) as refused:
                await shard_a.submit(spec("three"))
            await shard_a.submit(spec("bulk"), Priority.BATCH)  # batch work has its own cap
            return refused.value, shard_a.stats().counters["busy"]

    refused, busy = run(main())
    assert refused.retry_after_s >= 1
    assert busy == 1


def test_a_cancelled_queued_request_is_aborted_and_never_rendered(redis_url: str, redis_token: str) -> None:
    async def main() -> tuple[list[str], int]:
        async with cluster(redis_url, redis_token) as c:
            client = c.client()
            doomed = await client.submit(spec("doomed"))
            kept = await client.submit(spec("kept"))
            doomed.cancel()
            with pytest.raises(Cancelled):
                await doomed
            await asyncio.sleep(0.2)  # the abort reaches Redis
            c.start_worker()
            await kept
            for _ in range(50):  # the worker drops the aborted job when it reaches it
                if await c.queued() == 0:
                    break
                await asyncio.sleep(0.05)
            return c.backend.ran, await c.queued()

    ran, left = run(main())
    assert ran == ["kept"]
    assert left == 0


def test_one_shard_cancelling_a_shared_job_does_not_abort_it_for_the_other(
    redis_url: str, redis_token: str
) -> None:
    async def main() -> tuple[bytes, list[str]]:
        async with cluster(redis_url, redis_token) as c:
            shard_a, shard_b = c.client(), c.client()
            leaving = await shard_a.submit(spec("shared"))
            staying = await shard_b.submit(spec("shared"))
            leaving.cancel()
            await asyncio.sleep(0.2)
            c.start_worker()
            clip = await staying
            return clip.data, c.backend.ran

    data, ran = run(main())
    assert data and ran == ["shared"]


def test_compatible_jobs_a_worker_takes_at_once_share_one_backend_call(
    redis_url: str, redis_token: str
) -> None:
    prompts = ["one", "two", "three", "four"]

    async def main() -> tuple[list[list[str]], list[str]]:
        async with cluster(redis_url, redis_token) as c:
            client = c.client()
            handles = [await client.submit(spec(prompt), Priority.BATCH) for prompt in prompts]
            c.start_worker(concurrency=4, max_wait_s=10)
            clips = await asyncio.gather(*handles)
            return c.backend.calls, [clip.spec.prompt for clip in clips]

    calls, got = run(main())
    assert len(calls) < len(prompts)
    assert sorted(prompt for call in calls for prompt in call) == sorted(prompts)
    assert got == prompts


def test_a_worker_whose_backend_keeps_failing_switches_to_the_sticker_and_alerts(
    redis_url: str, redis_token: str, caplog: pytest.LogCaptureFixture
) -> None:
    prompts = ["first", "second"]

    async def main() -> tuple[list[Any], int, list[bool]]:
        async with cluster(redis_url, redis_token) as c:
            c.backend = BrokenBackend()
            client = c.client()
            handles = [await client.submit(spec(prompt)) for prompt in prompts]
            # Three tries fail on the primary and switch it over; the fourth is the sticker's.
            c.start_worker(retries=3, failure_threshold=3, fallbacks=["sticker"])
            clips = await asyncio.gather(*handles)
            store = c.store()
            keys = [redis_token + cache_key(spec(prompt), "sticker", None) for prompt in prompts]
            return clips, len(c.backend.calls), [await store.get(key) is not None for key in keys]

    with caplog.at_level(logging.ERROR, logger="reactclip"):
        clips, broken_calls, cached = run(main())
    assert [clip.spec.prompt for clip in clips] == prompts
    assert all(clip.backend == "sticker" and clip.variant == StickerBackend.variant for clip in clips)
    assert broken_calls == 3
    assert cached == [False, False]  # a fallback's clip is not what the key names
    alerts = [r.getMessage() for r in caplog.records if "executor alert" in r.getMessage()]
    assert len(alerts) == 1 and "3 consecutive failures" in alerts[0] and "switched to sticker" in alerts[0]


def test_the_client_picks_the_a_b_arm_and_the_worker_tags_and_caches_the_clip_under_it(
    redis_url: str, redis_token: str
) -> None:
    async def main() -> tuple[Any, Any, list[str]]:
        async with cluster(redis_url, redis_token) as c:
            client = c.client(variants={"arm-b": 1.0})
            c.start_worker(variants={"arm-b": 1.0})
            clip = await (await client.submit(spec("hello"), user="u1")).result()
            again = await (await client.submit(spec("hello"), user="u2")).result()
            return clip, again, c.backend.ran

    clip, again, ran = run(main())
    assert clip.spec.variant == clip.variant == "arm-b"
    assert again.cache_hit and again.variant == "arm-b"
    assert ran == ["hello"]
