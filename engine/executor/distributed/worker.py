"""The GPU side of the distributed executor: an arq worker that renders clips.

A worker renders through its own ``InProcessExecutor`` (no store: the worker puts each clip into the
shared Redis store itself), so it has what the embedded executor has: the jobs arq runs at once
(``concurrency``) are batched when compatible, a failed call is retried and an out-of-memory batch
split, the primary fails over to the configured fallbacks (alert, webhook, probe that switches
back), a clip of an A/B arm (the client chooses it) is tagged with it, and frames are inspected
before encoding. One GPU thread owns every loaded backend. The client decides degradation (today it
never degrades), so the worker never does. Graceful shutdown (SIGINT/SIGTERM) is arq's; arq runs a
job the shutdown interrupted once more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

from arq.connections import RedisSettings
from arq.constants import in_progress_key_prefix
from arq.worker import Worker, func
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from reactclip.engine.cache import RedisClipStore
from reactclip.engine.cache.record import encode_record
from reactclip.engine.clip import Clip
from reactclip.engine.clipmaker import Inspector
from reactclip.engine.executor.distributed.protocol import (
    DEFAULT_QUEUE,
    FINISHED,
    GONE_MEMORY_S,
    HEARTBEATS_MISSED,
    JOB_FUNCTION,
    KEEP_RESULT,
    ClipRequest,
    ClipResult,
    Heartbeat,
    Renderer,
    encode_event,
    events_channel,
    gone_key,
    renderer_key,
    worker_key,
)
from reactclip.engine.executor.errors import GenerationFailed
from reactclip.engine.executor.events import Done, ProgressEvent
from reactclip.engine.executor.executor import BackendFactory, InProcessExecutor
from reactclip.engine.executor.queue import Priority
from reactclip.engine.executor.settings import ExecutorSettings
from reactclip.engine.request_id import REQUEST_ID
from reactclip.engine.service import backend_factory, open_store
from reactclip.engine.settings import DISCORD_UPLOAD_LIMIT, EngineSettings
from reactclip.engine.spec import GenerationSpec

log = logging.getLogger(__name__)

CachePolicy = Callable[[Clip], bool]
Around = Callable[["ClipWorker"], contextlib.AbstractAsyncContextManager[Any]]

REDIS_BACKOFF_CAP_S = 2.0
JOB_TIMEOUT_S = 600.0
MAX_TRIES = 3
"""A job's first run plus two for runs a worker's end interrupted (killed, or stopped past its
grace); failed renders are retried inside the local executor (``ExecutorSettings.retries``), not by
arq."""


def local_settings(settings: ExecutorSettings, concurrency: int) -> ExecutorSettings:
    """The worker's executor settings: at most ``concurrency`` jobs are ever queued on it, so a group
    that size is as full as it gets (run it, do not wait for company) and no cap can refuse one;
    degradation is the client's decision, never the worker's."""
    return settings.model_copy(
        update={
            "max_batch": min(settings.max_batch, concurrency),
            "max_interactive_batch": min(settings.max_interactive_batch, concurrency),
            "queue_cap": max(settings.queue_cap, concurrency),
            "batch_queue_cap": max(settings.batch_queue_cap, concurrency),
            "degrade_threshold": math.inf,
        }
    )


def patient_redis(url: str) -> RedisSettings:
    """The worker's Redis: every command is retried, with backoff up to REDIS_BACKOFF_CAP_S, for
    as long as Redis is away, so a restarted Redis stalls the worker instead of ending it. (A bot
    shard is the opposite: it turns requests away as busy at once, see executor.py.)"""
    settings = RedisSettings.from_dsn(url)
    settings.retry_on_error = [RedisConnectionError, RedisTimeoutError, OSError]
    settings.retry = Retry(ExponentialBackoff(cap=REDIS_BACKOFF_CAP_S, base=0.1), retries=-1)
    return settings


class ClipWorker:
    """The job function and its hooks, sharing one local executor; ``worker_settings()`` gives arq's
    ``Worker`` its keyword arguments (what arq calls a ``WorkerSettings``).

    ``backends(name)`` builds a backend as ``InProcessExecutor``'s factory does: "default" is the
    worker's own backend, other names A/B variants or the settings' fallbacks.
    """

    def __init__(
        self,
        backends: BackendFactory,
        redis_url: str,
        *,
        settings: ExecutorSettings | None = None,
        queue_name: str = DEFAULT_QUEUE,
        store: RedisClipStore | None = None,
        upload_limit_bytes: int = DISCORD_UPLOAD_LIMIT,
        inspect: Inspector | None = None,
        may_cache: CachePolicy | None = None,
        concurrency: int = 1,
        revision: str | None = None,
        around: Around | None = None,
        lease_s: float = 10.0,
        heartbeat_s: float = 5.0,
        stop_grace_s: int = 30,
        poll_s: float = 0.1,
    ) -> None:
        """``revision``: the weights revision of what this worker renders, published with its
        backend's name for the clients' cache keys (``Renderer``). ``around(worker)``: a context the
        worker serves inside once its backend has loaded (``reactclip worker``'s metrics server).

        ``lease_s``: arq claims a job for its whole timeout (ten minutes here), so a killed worker's
        job would wait that long; this worker keeps its claim short and renews it while it works,
        so another worker takes the job over within ``lease_s``. ``heartbeat_s``: how often it
        tells the clients it is alive (``Heartbeat``). ``stop_grace_s``: after SIGTERM, how long it
        finishes what it holds (taking nothing new) before handing the rest back to the queue."""
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        self.settings = local_settings(settings or ExecutorSettings(), concurrency)
        self.redis_url = redis_url
        self.queue_name = queue_name
        self.concurrency = concurrency
        self._backends = backends
        self._revision = revision
        self._store = store
        self._upload_limit = upload_limit_bytes
        self._inspect = inspect
        self._may_cache = may_cache
        self._executor: InProcessExecutor | None = None
        self._around = around
        self._contexts = contextlib.AsyncExitStack()
        self.lease_s, self.heartbeat_s, self.stop_grace_s = lease_s, heartbeat_s, stop_grace_s
        self.poll_s = poll_s
        self.worker_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._renderer: Renderer | None = None
        self._jobs = 0
        self._heartbeat: asyncio.Task[None] | None = None

    @property
    def executor(self) -> InProcessExecutor | None:
        """The local executor, once the worker has started (None before and after)."""
        return self._executor

    def worker_settings(self) -> dict[str, Any]:
        return {
            "functions": [func(self.render_clip, name=JOB_FUNCTION, max_tries=MAX_TRIES)],
            "queue_name": self.queue_name,
            "redis_settings": patient_redis(self.redis_url),
            "on_startup": self.startup,
            "on_shutdown": self.shutdown,
            "after_job_end": self.after_job_end,
            "max_jobs": self.concurrency,
            "job_timeout": JOB_TIMEOUT_S,
            "keep_result": KEEP_RESULT,
            "allow_abort_jobs": True,
            "job_completion_wait": self.stop_grace_s,
            "poll_delay": self.poll_s,
        }

    def create(self, **overrides: Any) -> Worker:
        """An arq Worker; tests pass ``burst``, ``poll_delay`` or ``handle_signals=False``."""
        return Worker(**(self.worker_settings() | overrides))

    # arq's hooks.

    async def startup(self, ctx: dict[str, Any]) -> None:
        self._executor = InProcessExecutor(
            self._backends, self.settings, upload_limit_bytes=self._upload_limit, inspect=self._inspect
        )
        # The weights load (or fail to) before the first job is taken, not during it.
        backend = await self._executor.load_backend()
        log.info("worker on queue %s: backend %s (%s)", self.queue_name, backend.name, backend.variant)
        self._renderer = Renderer(backend.name, self._revision)
        await ctx["redis"].set(renderer_key(self.queue_name), self._renderer.encode())
        self._heartbeat = asyncio.create_task(self._beat(ctx["redis"]), name="reactclip-heartbeat")
        if self._around is not None:
            await self._contexts.enter_async_context(self._around(self))

    async def shutdown(self, ctx: dict[str, Any]) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(RedisError, OSError):  # a clean goodbye: no "worker lost" alert
                gone = gone_key(self.queue_name, self.worker_id)
                await ctx["redis"].set(gone, "left", ex=GONE_MEMORY_S)
                await self._send_beat(ctx["redis"], leaving=True)
        await self._contexts.aclose()
        if self._executor is not None:
            # Jobs still queued here were interrupted: arq runs them again.
            await self._executor.shutdown(drain=False)
            self._executor = None
        if self._store is not None:
            await self._store.close()

    async def after_job_end(self, ctx: dict[str, Any]) -> None:
        # arq has stored the result by now, so a follower that reads it on this message finds it.
        await ctx["redis"].publish(events_channel(self.queue_name, ctx["job_id"]), encode_event(FINISHED))

    async def _beat(self, redis: Any) -> None:
        while True:
            try:
                await self._send_beat(redis)
            except (RedisError, OSError) as error:
                log.warning("heartbeat failed: %s", error)
            await asyncio.sleep(self.heartbeat_s)

    async def _send_beat(self, redis: Any, leaving: bool = False) -> None:
        """The heartbeat, and the Renderer again (a Redis restarted without its data has lost it)."""
        assert self._renderer is not None
        host, now = socket.gethostname(), time.time()
        beat = Heartbeat(self.worker_id, host, self._renderer.backend, self._jobs, now, leaving)
        ttl_ms = int(self.heartbeat_s * HEARTBEATS_MISSED * 1000)
        async with redis.pipeline(transaction=False) as pipe:
            pipe.set(worker_key(self.queue_name, self.worker_id), beat.encode(), px=ttl_ms)
            if not leaving:
                pipe.set(renderer_key(self.queue_name), self._renderer.encode())
            await pipe.execute()

    async def _hold(self, redis: Any, job_id: str) -> None:
        """Renew this worker's claim on a running job (arq's in-progress key) until cancelled."""
        while True:
            try:
                await redis.pexpire(in_progress_key_prefix + job_id, int(self.lease_s * 1000))
            except (RedisError, OSError) as error:
                log.warning("renewing the lease of job %s failed: %s", job_id, error)
            await asyncio.sleep(self.lease_s / 3)

    # The job.

    async def render_clip(self, ctx: dict[str, Any], request: ClipRequest) -> ClipResult:
        """Have the local executor make one spec's clip, forwarding its progress; keep the clip in
        the shared store under the request's key; return its metadata (and its bytes when they are
        not in the store)."""
        executor = self._executor
        assert executor is not None, "render_clip ran before startup"
        REQUEST_ID.set(request.get("request_id"))  # arq runs each job in its own task
        spec = GenerationSpec(**request["spec"])
        progress = _Publisher(ctx["redis"], events_channel(self.queue_name, ctx["job_id"]))
        lease = asyncio.create_task(self._hold(ctx["redis"], ctx["job_id"]))
        self._jobs += 1
        try:
            handle = await executor.submit(
                spec,
                Priority(request["priority"]),
                guild=request["guild"],
                user=request["user"],
                on_event=progress.send,
            )
            try:
                clip = await handle
            except asyncio.CancelledError:  # aborted, or the worker is stopping: leave the queue
                handle.cancel()
                raise
        except GenerationFailed as exc:
            log.warning("job %s failed: %s", ctx["job_id"], exc)
            # The client gets this pickled: a plain message, without the backend's own exception.
            raise GenerationFailed(str(exc)) from None
        finally:
            lease.cancel()
            self._jobs -= 1
            await progress.close()
        # Only a clip of the variant the client asked for is what its key names: not a fallback's,
        # nor one of an A/B arm this worker chose (a client without the rollout settings).
        stored = handle.made_by == spec.variant and await self._put(request["key"], clip)
        log.info("job %s: clip by %s in %.2f s", ctx["job_id"], clip.backend, clip.timings.rendering)
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
        # Done is the client's to say: it follows the FINISHED message, once the result is stored.
        if not isinstance(event, Done):
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
    around: Around | None = None,
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
    own = settings if backend is None else settings.model_copy(update={"backend": backend})
    worker = ClipWorker(
        backend_factory(own),
        redis_url,
        settings=settings.executor,
        queue_name=queue_name,
        store=store,
        upload_limit_bytes=settings.upload_limit_bytes,
        inspect=inspect,
        may_cache=may_cache,
        concurrency=concurrency,
        revision=own.wan.revision,
        around=around,
        lease_s=settings.distributed.lease_s,
        heartbeat_s=settings.distributed.heartbeat_s,
        stop_grace_s=settings.distributed.stop_grace_s,
        poll_s=settings.distributed.poll_s,
    )
    # arq's Worker takes the current event loop when it is built; asyncio.run() would close it, so
    # give it a fresh one that it runs to the end (its own `run`).
    asyncio.set_event_loop(asyncio.new_event_loop())
    worker.create().run()
