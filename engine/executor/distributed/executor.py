"""DistributedExecutor: the bot's side of the distributed executor. Requests become arq jobs in
Redis; ``reactclip worker`` processes on GPU hosts render them (see ``worker.py``).

A request's path: submit -> the shared store (a hit returns at once) -> join this process's flight
for the same key, or Busy over the cap, or enqueue an arq job whose id is the queue's name and the
cache key (arq refuses a second job with the same id, so identical requests from every shard share
one job) -> follow the
job's progress channel -> read the clip from the shared store (or from the result when the worker
did not store it) -> every handle resolved.

The A/B arm is chosen here, so that the cache key names it. Batching, retries, OOM splits, failover
and the arm's tag happen on each worker, which renders through its own in-process executor. Not
anywhere: load-based degradation (the worker never degrades, so it would be this client's decision).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.constants import abort_jobs_ss, result_key_prefix
from arq.jobs import Job, JobResult, JobStatus
from arq.utils import timestamp_ms, to_unix_ms
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from reactclip.engine.cache import RedisClipStore, cache_key
from reactclip.engine.cache.record import decode_record
from reactclip.engine.clip import Clip
from reactclip.engine.executor.alerts import QueueUnreachable, WorkerLost
from reactclip.engine.executor.base import ExecutorStats
from reactclip.engine.executor.core import AlertHook, ExecutorCore, deliver, fail_all
from reactclip.engine.executor.distributed.protocol import (
    DEFAULT_QUEUE,
    EXPIRES,
    FINISHED,
    GONE_MEMORY_S,
    JOB_FUNCTION,
    KEEP_RESULT,
    ClipRequest,
    ClipResult,
    Heartbeat,
    Renderer,
    decode_event,
    due_at,
    events_channel,
    gone_key,
    queue_lengths,
    renderer_key,
    waiters_key,
    worker_key,
)
from reactclip.engine.executor.errors import Busy, Cancelled, GenerationFailed, ShuttingDown
from reactclip.engine.executor.events import EventCallback, ProgressEvent, Queued, Started
from reactclip.engine.executor.handle import ClipHandle
from reactclip.engine.executor.load import CostModel
from reactclip.engine.executor.queue import Priority
from reactclip.engine.executor.settings import ExecutorSettings
from reactclip.engine.spec import GenerationSpec

log = logging.getLogger(__name__)

KeyFunction = Callable[[GenerationSpec], str]

ROUNDS = 3
"""Times a request is enqueued again after its job vanished, or was aborted by another client."""
RENDERER_TTL_S = 30.0
"""How long a shard trusts the Renderer it read: a worker restarted on another backend is seen
within this."""
COST_KEY = "distributed"
"""The cost model's one entry here: whatever backend the workers run, timed start to clip."""


@dataclass(eq=False)
class _Flight:
    """One arq job this process follows, shared by every local handle that asked for it."""

    job_id: str
    spec: GenerationSpec
    request: ClipRequest
    priority: Priority
    handles: list[ClipHandle]
    waiter: str = field(default_factory=lambda: uuid.uuid4().hex)
    """This flight's entry in the job's waiters set."""
    started: Started | None = None
    started_at: float | None = None
    task: asyncio.Task[None] | None = None


class DistributedExecutor(ExecutorCore):
    """Queues requests for ``reactclip worker`` processes through the Redis at ``redis_url``.

    ``store`` is the Redis clip store the workers write to (same server and prefix); without it,
    nothing is cached or shared, and workers return each clip's bytes in the job result. A clip's
    key names what the workers render with, as they publish it at start (``Renderer``); until a
    worker has, requests go uncached. ``key_fn`` replaces that (tests, fixed deployments).
    """

    def __init__(
        self,
        redis_url: str,
        settings: ExecutorSettings | None = None,
        *,
        queue_name: str = DEFAULT_QUEUE,
        store: RedisClipStore | None = None,
        key_fn: KeyFunction | None = None,
        poll_interval_s: float = 0.5,
        heartbeat_s: float = 5.0,
        on_alert: AlertHook | None = None,
    ) -> None:
        super().__init__(settings or ExecutorSettings(), on_alert)
        self.queue_name = queue_name
        self._redis_settings = RedisSettings.from_dsn(redis_url)
        self._store = store
        self._key_fn = key_fn
        self._renderer: tuple[float, Renderer | None] | None = None
        """The workers' published Renderer and when it was read (re-read every RENDERER_TTL_S)."""
        self._poll_s = poll_interval_s
        self._cost = CostModel(self.settings.seconds_per_unit, self.settings.batch_overhead_s)
        self._redis: ArqRedis | None = None
        self._flights: dict[str, _Flight] = {}
        self._queued = {priority: 0 for priority in Priority}
        """Queue lengths as last read (at each submit)."""
        self._heartbeat_s = heartbeat_s
        self._workers: dict[str, Heartbeat] = {}
        """The workers heard from at the last look (``_watch_workers``)."""
        self._unreachable = False
        """Redis failed at the last try: alerted once, until it answers again."""
        self._watches: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> DistributedExecutor:
        return self

    async def __aexit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        await self.shutdown(drain=exc is None)

    # The public API.

    async def submit(
        self,
        spec: GenerationSpec,
        priority: Priority | str = Priority.INTERACTIVE,
        *,
        guild: str | None = None,
        user: str = "anonymous",
        on_event: EventCallback | None = None,
    ) -> ClipHandle:
        """Queue a request and return its handle at once (a cache hit comes back already done).
        Raises Busy over the queue cap or while Redis cannot be reached, and ShuttingDown once
        shutdown has begun."""
        self._check_open()
        self._watch()
        priority = Priority(priority)
        handle = self._new_handle(spec, priority, guild, user, on_event)
        spec = handle.spec  # on its A/B arm: chosen here, not on the worker, so the key names it
        key = await self._key(spec) if self._store is not None else None
        try:
            if key is not None:
                cached = await self._lookup(key)
                if cached is not None:
                    handle._resolve(cached)
                    return handle
            self._check_open()  # shutdown may have begun during the lookup
            job_id = self._job_id(key) if key is not None else uuid.uuid4().hex
            if job_id in self._flights:
                await self._join(self._flights[job_id], handle)
                return handle

            redis = await self._connect()
            self._queued = await queue_lengths(redis, self.queue_name)
            cap = (
                self.settings.queue_cap if priority is Priority.INTERACTIVE else self.settings.batch_queue_cap
            )
            if self._queued[priority] >= cap or self._guild_full(priority, handle.guild):
                self.counters["busy"] += 1
                raise Busy(self._cost.estimate([spec], COST_KEY))
            if job_id in self._flights:  # an identical request got in meanwhile
                await self._join(self._flights[job_id], handle)
                return handle

            request: ClipRequest = {
                "spec": spec.to_dict(),
                "priority": priority.value,
                "guild": handle.guild,
                "user": user,
                "key": key,
                "inline": key is None,
                "request_id": handle.id,
            }
            flight = _Flight(job_id, spec, request, priority, [handle])
            self._flights[flight.job_id] = flight
            try:
                # Subscribe before the job exists, so that no progress event is missed.
                pubsub = redis.pubsub()
                await pubsub.subscribe(events_channel(self.queue_name, flight.job_id))
                job = await self._enqueue(redis, flight)
            except BaseException:
                self._forget(flight)
                raise
        except (RedisError, OSError) as error:
            self._lost_redis(error)
            self.counters["busy"] += 1
            raise Busy(self._heartbeat_s) from error
        handle._emit(await self._queued_event(redis, flight))
        flight.task = self._spawn(self._follow(flight, pubsub, job))
        return handle

    def _guild_full(self, priority: Priority, guild: str) -> bool:
        """Whether ``guild`` holds its share of the interactive queue already, counting the jobs
        this process follows that have not started (the share of this bot shard)."""
        if priority is not Priority.INTERACTIVE:
            return False
        waiting = sum(
            1
            for flight in self._flights.values()
            if flight.started is None and any(handle.guild == guild for handle in flight.handles)
        )
        return waiting >= self.settings.guild_queue_cap

    def load(self) -> float:
        """How full the interactive queue was at the last submit (0 = empty, 1 = at the cap)."""
        return self._queued[Priority.INTERACTIVE] / self.settings.queue_cap

    def stats(self) -> ExecutorStats:
        self._watch()  # a shard's first scrape starts the watches, so workers show before any request
        now = time.time()
        return ExecutorStats(
            workers={worker: round(now - beat.sent_at, 3) for worker, beat in self._workers.items()},
            alerts=dict(self.alerts),
            assigned=dict(self._chooser.assigned) if self._chooser is not None else {},
            queued={priority.value: count for priority, count in self._queued.items()},
            load=round(self.load(), 3),
            running=sum(1 for flight in self._flights.values() if flight.started is not None),
            backend="distributed",
            counters=dict(self.counters),
        )

    async def shutdown(self, drain: bool = True) -> None:
        """Stop taking requests; wait for the jobs this process follows (drain), or fail their
        handles with ShuttingDown and withdraw from the jobs. Workers are not stopped: other
        clients may still want their work."""
        self._closing = True
        if not drain:
            for flight in list(self._flights.values()):
                handles, flight.handles = flight.handles, []
                for handle in handles:
                    handle._fail(ShuttingDown())
                self._forget(flight)
                self._spawn(self._withdraw(flight))
        await self._drain_tasks()
        for watch in self._watches:
            watch.cancel()
        await asyncio.gather(*self._watches, return_exceptions=True)
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    # Watching the workers, Redis and the load.

    def _watch(self) -> None:
        """Start the watches once, from inside the event loop (the first submit or scrape)."""
        if not self._watches and not self._closing:
            self._watches = [
                asyncio.create_task(self._watch_workers(), name="reactclip-worker-watch"),
                asyncio.create_task(self._watch_load(), name="reactclip-load-watch"),
            ]

    async def _watch_workers(self) -> None:
        """Every heartbeat: read the workers' heartbeats, alert for any gone silent without saying
        goodbye, and for Redis not answering (once per outage)."""
        while True:
            try:
                redis = await self._connect()
                workers = await self._heartbeats(redis)
                for worker, last in self._workers.items():
                    if worker not in workers and not last.leaving:
                        await self._lost_worker(redis, last)
                self._workers = {worker: beat for worker, beat in workers.items() if not beat.leaving}
                self._unreachable = False
            except (RedisError, OSError) as error:
                self._lost_redis(error)
            await asyncio.sleep(self._heartbeat_s)

    async def _heartbeats(self, redis: ArqRedis) -> dict[str, Heartbeat]:
        keys = [key async for key in redis.scan_iter(match=worker_key(self.queue_name, "*"))]
        beats = [Heartbeat.decode(raw) for raw in (await redis.mget(keys) if keys else [])]
        return {beat.worker: beat for beat in beats if beat is not None}

    async def _lost_worker(self, redis: ArqRedis, last: Heartbeat) -> None:
        """Alert for a lost worker, once across every shard watching (the first to mark it)."""
        if await redis.set(gone_key(self.queue_name, last.worker), "lost", nx=True, ex=GONE_MEMORY_S):
            self._raise_alert(WorkerLost(last.worker, last.host, round(time.time() - last.sent_at, 1)))

    def _lost_redis(self, error: BaseException) -> None:
        log.warning("the queue's Redis cannot be reached: %s: %s", type(error).__name__, error)
        if not self._unreachable:
            self._unreachable = True
            self._raise_alert(QueueUnreachable(self.queue_name, f"{type(error).__name__}: {error}"))

    # Admission.

    async def _connect(self) -> ArqRedis:
        if self._redis is None:
            self._redis = await create_pool(self._redis_settings, default_queue_name=self.queue_name)
        return self._redis

    def _job_id(self, key: str) -> str:
        """The arq job of a cache key, on this queue: identical requests from every shard share it
        (arq refuses a second job with the same id), and two queues on one Redis never do."""
        return f"{self.queue_name}:{key}"

    async def _key(self, spec: GenerationSpec) -> str | None:
        """The clip's cache key, naming what the workers render with (their published Renderer:
        ``auto`` is resolved on a GPU host, never on this shard); None until a worker has said,
        so nothing is looked up or shared under a guess. ``key_fn``, when given, decides instead."""
        if self._key_fn is not None:
            return self._key_fn(spec)
        renderer = await self._published_renderer()
        if renderer is None:
            return None
        return cache_key(spec, f"{renderer.backend}:{spec.variant}", renderer.revision)

    async def renderer_name(self) -> str | None:
        renderer = await self._published_renderer()
        return None if renderer is None else renderer.backend

    async def _published_renderer(self) -> Renderer | None:
        """What the workers said they render with, re-read every RENDERER_TTL_S."""
        now = time.monotonic()
        if self._renderer is None or now - self._renderer[0] > RENDERER_TTL_S:
            try:
                published = await (await self._connect()).get(renderer_key(self.queue_name))
            except (RedisError, OSError):
                published = None
            self._renderer = (now, Renderer.decode(published))
        return self._renderer[1]

    async def _lookup(self, key: str) -> Clip | None:
        assert self._store is not None
        clip = await self._store.get(key)  # never raises: an unreachable store reads as a miss
        self.counters["cache_hits" if clip is not None else "cache_misses"] += 1
        return clip

    async def _join(self, flight: _Flight, handle: ClipHandle) -> None:
        """Attach an identical request to a job this process already follows."""
        self.counters["shared"] += 1
        flight.handles.append(handle)
        if handle.priority == Priority.INTERACTIVE and flight.priority is Priority.BATCH:
            flight.priority = Priority.INTERACTIVE
            await self._promote(await self._connect(), flight.job_id)
        if flight.started is not None:
            handle._emit(flight.started)
        else:
            handle._emit(await self._queued_event(await self._connect(), flight))

    async def _enqueue(self, redis: ArqRedis, flight: _Flight) -> Job:
        """Enqueue the flight's job, or join the job with its id that another client enqueued."""
        waiters = waiters_key(self.queue_name, flight.job_id)
        async with redis.pipeline(transaction=True) as pipe:
            pipe.sadd(waiters, flight.waiter)
            pipe.expire(waiters, EXPIRES[flight.priority] + KEEP_RESULT)
            await pipe.execute()
        for _ in range(ROUNDS):
            job = await redis.enqueue_job(
                JOB_FUNCTION,
                flight.request,
                _job_id=flight.job_id,
                _queue_name=self.queue_name,
                _defer_until=due_at(flight.priority),
                _expires=EXPIRES[flight.priority],
            )
            if job is not None:
                return job
            job = Job(flight.job_id, redis, _queue_name=self.queue_name)
            result = await job.result_info()
            if result is None or result.success:  # in flight, or just done: share it
                self.counters["shared"] += 1
                if flight.priority is Priority.INTERACTIVE:
                    await self._promote(redis, flight.job_id)
                return job
            # A finished job's failure (or abort) stays KEEP_RESULT; a new request tries afresh.
            await redis.delete(result_key_prefix + flight.job_id)
        raise GenerationFailed("the clip could not be queued")

    async def _promote(self, redis: ArqRedis, job_id: str) -> None:
        """Move a queued batch job ahead as interactive (only ever lowers its score)."""
        due = due_at(Priority.INTERACTIVE)
        assert due is not None
        await redis.zadd(self.queue_name, {job_id: to_unix_ms(due)}, xx=True, lt=True)

    async def _queued_event(self, redis: ArqRedis, flight: _Flight) -> Queued:
        """The flight's place in the shared queue (the jobs ahead of it, running ones included:
        approximate, as of now) and its wait: that many clips and its own, at the speed clips
        came back here at (unknown before the first)."""
        score = await redis.zscore(self.queue_name, flight.job_id)
        ahead = 0 if score is None else int(await redis.zcount(self.queue_name, "-inf", f"({score}"))
        return Queued(ahead, wait_s=self._wait_s(flight.spec, ahead))

    def _wait_s(self, spec: GenerationSpec, ahead: int) -> float | None:
        if not self._cost.knows(COST_KEY):
            return None
        return round((ahead + 1) * self._cost.estimate([spec], COST_KEY), 2)

    def expected_wait_s(self, spec: GenerationSpec) -> float | None:
        """From the queue lengths read at the last submit: an estimate, as the workers' share of
        the queue is not known here."""
        return self._wait_s(spec, self._queued[Priority.INTERACTIVE])

    # Following a job.

    async def _follow(self, flight: _Flight, pubsub: PubSub, job: Job) -> None:
        try:
            for _ in range(ROUNDS):
                result = await self._wait(flight, pubsub, job)
                if result is None:  # the job and its result are gone (expired, or deleted)
                    key = flight.request["key"]
                    clip = await self._lookup(key) if self._store is not None and key else None
                elif result.success:
                    clip = await self._clip(flight, result.result)
                elif isinstance(result.result, asyncio.CancelledError):
                    if not flight.handles:
                        return  # our own abort
                    clip = None  # another client aborted a job we had just joined
                else:
                    self._fail(flight, result.result)
                    return
                if clip is not None:
                    self._deliver(flight, clip)
                    return
                job = await self._enqueue(await self._connect(), flight)
            self._fail(flight, GenerationFailed("the clip job kept disappearing from the queue"))
        except (RedisError, OSError) as error:  # Redis went away: ask again once it is back
            self._lost_redis(error)
            self._fail(flight, Busy(self._heartbeat_s))
        except Exception as error:  # a bug: no handle is left waiting
            log.warning("following job %s failed: %s: %s", flight.job_id, type(error).__name__, error)
            self._fail(flight, error)
        finally:
            self._forget(flight)
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()
                if self._redis is not None:
                    async with self._redis.pipeline(transaction=False) as pipe:
                        pipe.srem(waiters_key(self.queue_name, flight.job_id), flight.waiter)
                        await pipe.execute()

    async def _wait(self, flight: _Flight, pubsub: PubSub, job: Job) -> JobResult | None:
        """Forward the job's progress until its result is there (None when the job vanished). The
        FINISHED message makes the read immediate; polling covers a missed message or a dead worker."""
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=self._poll_s)
            if message is not None:
                try:
                    event = decode_event(message["data"])
                except ValueError as error:
                    log.warning("job %s: %s", flight.job_id, error)
                    continue
                if event != FINISHED:
                    assert not isinstance(event, str)
                    self._emit(flight, event)
                    continue
            result = await job.result_info()
            if result is not None:
                return result
            if message is None and await job.status() is JobStatus.not_found:
                return None

    def _emit(self, flight: _Flight, event: ProgressEvent) -> None:
        if isinstance(event, Started):
            flight.started, flight.started_at = event, time.monotonic()
        for handle in flight.handles:
            handle._emit(event)

    async def _clip(self, flight: _Flight, result: ClipResult) -> Clip | None:
        """The job's clip: from the result, or from the store the worker put it in."""
        if result["data"] is not None:
            clip = decode_record(result["meta"], result["data"])
        elif self._store is not None and flight.request["key"] is not None:
            found = await self._store.get(flight.request["key"])
            if found is None:
                return None  # evicted already: render again
            clip = found
        else:
            return None
        return dataclasses.replace(clip, cache_hit=False)

    def _deliver(self, flight: _Flight, clip: Clip) -> None:
        if flight.started_at is not None:
            self._cost.observe([flight.spec], COST_KEY, time.monotonic() - flight.started_at)
        for handle in flight.handles:
            deliver(handle, clip, flight.started_at)

    def _fail(self, flight: _Flight, error: BaseException) -> None:
        fail_all(flight.handles, error)

    # Cancelling.

    def _cancel(self, handle: ClipHandle) -> None:
        handle._fail(Cancelled())
        self.counters["cancelled"] += 1
        for flight in self._flights.values():
            if handle in flight.handles:
                flight.handles.remove(handle)
                if not flight.handles:
                    self._forget(flight)
                    self._spawn(self._withdraw(flight))
                return

    async def _withdraw(self, flight: _Flight) -> None:
        """Nobody here wants the job any more: leave it, and abort it if no other client follows it.
        A queued job is dropped when a worker reaches it; a running one is cancelled."""
        try:
            redis = await self._connect()
            async with redis.pipeline(transaction=True) as pipe:
                pipe.srem(waiters_key(self.queue_name, flight.job_id), flight.waiter)
                pipe.scard(waiters_key(self.queue_name, flight.job_id))
                _, left = await pipe.execute()
            if left == 0:
                # What arq's Job.abort() does, without waiting for a worker to confirm it.
                await redis.zadd(abort_jobs_ss, {flight.job_id: timestamp_ms()})
        except (RedisError, OSError) as error:
            log.warning("withdrawing from job %s failed: %s", flight.job_id, error)
        if flight.task is not None:
            flight.task.cancel()

    def _forget(self, flight: _Flight) -> None:
        if self._flights.get(flight.job_id) is flight:
            del self._flights[flight.job_id]
