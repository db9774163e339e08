"""The GPU side of the distributed executor: an arq worker that renders clips.

One worker process owns one backend (one loaded pipeline), built at startup and closed at shutdown.
Renders run on one dedicated thread, so even with ``concurrency`` above 1 (encoding and Redis I/O
overlapping the next render) or an aborted job whose render cannot be interrupted, the pipeline
never runs two calls at once. Graceful shutdown (SIGINT/SIGTERM) is arq's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from arq.connections import RedisSettings
from arq.worker import Retry, Worker, func

from reactclip.engine.backends import Backend, StepProgress, create_backend
from reactclip.engine.cache import RedisClipStore
from reactclip.engine.cache.record import encode_record
from reactclip.engine.clip import Clip
from reactclip.engine.clipmaker import ClipMaker, Inspector
from reactclip.engine.executor.distributed.protocol import (
    DEFAULT_QUEUE,
    FINISHED,
    JOB_FUNCTION,
    KEEP_RESULT,
    ClipRequest,
    ClipResult,
    encode_event,
    events_channel,
)
from reactclip.engine.executor.errors import GenerationFailed
from reactclip.engine.executor.events import Decoding, ProgressEvent, Started, Step
from reactclip.engine.executor.settings import ExecutorSettings
from reactclip.engine.service import open_store
from reactclip.engine.settings import DISCORD_UPLOAD_LIMIT, EngineSettings
from reactclip.engine.spec import GenerationSpec

log = logging.getLogger(__name__)

CachePolicy = Callable[[Clip], bool]

RETRY_DELAY_S = 1.0
JOB_TIMEOUT_S = 600.0


class ClipWorker:
    """The job function and its hooks, sharing one backend; ``worker_settings()`` gives arq's
    ``Worker`` its keyword arguments (what arq calls a ``WorkerSettings``)."""

    def __init__(
        self,
        make_backend: Callable[[], Backend],
        redis_url: str,
        *,
        settings: ExecutorSettings | None = None,
        queue_name: str = DEFAULT_QUEUE,
        store: RedisClipStore | None = None,
        upload_limit_bytes: int = DISCORD_UPLOAD_LIMIT,
        inspect: Inspector | None = None,
        may_cache: CachePolicy | None = None,
        concurrency: int = 1,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        self.settings = settings or ExecutorSettings()
        self.redis_url = redis_url
        self.queue_name = queue_name
        self.concurrency = concurrency
        self._make_backend = make_backend
        self._store = store
        self._upload_limit = upload_limit_bytes
        self._inspect = inspect
        self._may_cache = may_cache
        self._maker: ClipMaker | None = None
        self._gpu = ThreadPoolExecutor(1, thread_name_prefix="reactclip-gpu")

    def worker_settings(self) -> dict[str, Any]:
        return {
            "functions": [
                # Our own retries (ExecutorSettings.retries) plus one for a job that a worker's
                # shutdown interrupted and arq runs again.
                func(self.render_clip, name=JOB_FUNCTION, max_tries=self.settings.retries + 2)
            ],
            "queue_name": self.queue_name,
            "redis_settings": RedisSettings.from_dsn(self.redis_url),
            "on_startup": self.startup,
            "on_shutdown": self.shutdown,
            "after_job_end": self.after_job_end,
            "max_jobs": self.concurrency,
            "job_timeout": JOB_TIMEOUT_S,
            "keep_result": KEEP_RESULT,
            "allow_abort_jobs": True,
        }

    def create(self, **overrides: Any) -> Worker:
        """An arq Worker; tests pass ``burst``, ``poll_delay`` or ``handle_signals=False``."""
        return Worker(**(self.worker_settings() | overrides))

    # arq's hooks.

    async def startup(self, ctx: dict[str, Any]) -> None:
        backend = await asyncio.get_running_loop().run_in_executor(self._gpu, self._make_backend)
        self._maker = ClipMaker(backend, self._upload_limit, self._inspect)
        log.info("worker on queue %s: backend %s (%s)", self.queue_name, backend.name, backend.variant)

    async def shutdown(self, ctx: dict[str, Any]) -> None:
        if self._maker is not None:
            await asyncio.get_running_loop().run_in_executor(self._gpu, self._maker.close)
            self._maker = None
        self._gpu.shutdown(wait=False)
        if self._store is not None:
            await self._store.close()

    async def after_job_end(self, ctx: dict[str, Any]) -> None:
        # arq has stored the result by now, so a follower that reads it on this message finds it.
        await ctx["redis"].publish(events_channel(self.queue_name, ctx["job_id"]), encode_event(FINISHED))

    # The job.

    async def render_clip(self, ctx: dict[str, Any], request: ClipRequest) -> ClipResult:
        """Render, inspect and encode one spec; keep the clip in the shared store under the request's
        key; return its metadata (and its bytes when they are not in the store)."""
        maker = self._maker
        assert maker is not None, "render_clip ran before startup"
        loop = asyncio.get_running_loop()
        spec = GenerationSpec(**request["spec"])
        progress = _Publisher(ctx["redis"], events_channel(self.queue_name, ctx["job_id"]))

        def on_step(step: StepProgress) -> None:
            loop.call_soon_threadsafe(progress.send, Step(step.stage, step.step, step.total))

        progress.send(Started(maker.backend.name, 1))
        try:
            [rendered] = await loop.run_in_executor(self._gpu, maker.render, [spec], on_step)
            progress.send(Decoding())
            # On a thread: the inspector sees the frames before anything is encoded or kept.
            clip = await asyncio.to_thread(maker.encode, spec, rendered)
        except Exception as exc:
            log.warning(
                "job %s (try %d) failed: %s: %s", ctx["job_id"], ctx["job_try"], type(exc).__name__, exc
            )
            if ctx["job_try"] <= self.settings.retries:
                raise Retry(defer=RETRY_DELAY_S) from exc
            # The client gets this pickled: a plain message, not a backend's own exception type.
            raise GenerationFailed(f"the clip could not be made: {exc}") from None
        finally:
            await progress.close()
        stored = await self._put(request["key"], clip)
        meta, data = encode_record(clip)
        return {"meta": meta, "data": None if stored and not request["inline"] else data}

    async def _put(self, key: str | None, clip: Clip) -> bool:
        if self._store is None or key is None:
            return False
        if self._may_cache is not None and not self._may_cache(clip):
            return False
        return await self._store.put(key, clip)


class _Publisher:
    """Publishes one job's progress events in order, without the render waiting on Redis."""

    def __init__(self, redis: Any, channel: str) -> None:
        self._redis = redis
        self._channel = channel
        self._events: asyncio.Queue[ProgressEvent | None] = asyncio.Queue()
        self._task = asyncio.create_task(self._run())

    def send(self, event: ProgressEvent) -> None:
        self._events.put_nowait(event)

    async def close(self) -> None:
        self._events.put_nowait(None)
        await asyncio.shield(self._task)

    async def _run(self) -> None:
        while (event := await self._events.get()) is not None:
            try:
                await self._redis.publish(self._channel, encode_event(event))
            except Exception as exc:  # progress is a courtesy; the clip still counts
                log.warning("publishing progress on %s failed: %s", self._channel, exc)


def run_worker(
    settings: EngineSettings,
    redis_url: str,
    *,
    backend: str | None = None,
    queue_name: str = DEFAULT_QUEUE,
    concurrency: int = 1,
    inspect: Inspector | None = None,
    may_cache: CachePolicy | None = None,
) -> None:
    """Serve ``queue_name`` until SIGINT or SIGTERM (what ``reactclip worker`` runs). ``backend``
    defaults to the settings' choice. Clips go into the Redis clip store of ``settings.cache``
    (the one the clients read); with another store configured they are returned inline, uncached."""
    store = open_store(settings) if settings.cache.store == "redis" else None
    if not isinstance(store, RedisClipStore):
        log.warning(
            "cache.store is %r, not redis: clips are returned to clients but not cached", settings.cache.store
        )
        store = None
    worker = ClipWorker(
        lambda: create_backend(settings, backend),
        redis_url,
        settings=settings.executor,
        queue_name=queue_name,
        store=store,
        upload_limit_bytes=settings.upload_limit_bytes,
        inspect=inspect,
        may_cache=may_cache,
        concurrency=concurrency,
    )
    # arq's Worker takes the current event loop when it is built; asyncio.run() would close it, so
    # give it a fresh one that it runs to the end (its own `run`).
    asyncio.set_event_loop(asyncio.new_event_loop())
    worker.create().run()
