"""InProcessExecutor: the embedded executor. One worker thread owns every loaded backend (a diffusers
pipeline is not thread-safe), so the event loop never waits on the model.

A request's path: submit -> cache lookup -> join an identical job in flight, or admission (degrade,
or Busy) -> fair priority queue -> the dispatcher picks a batch when the GPU is free -> the GPU thread
renders it (retry, OOM split, failover) -> the encode pool inspects and encodes -> cache put -> every
handle of the job resolved. All queue state lives on the event loop; only ``_generate`` and
``_encode`` run on threads.

Preemption: an interactive request that arrives while a batch-class call is on the GPU asks that call
to stop at its next step (``settings.preempt``). The stopped jobs go back to the front of the batch
queue and run again from the first step once the interactive work is done: a diffusers call cannot
resume mid-schedule, so the steps already taken are lost. That is why a call near its end is left
to finish (``preempt_ratio``) and a job is preempted at most ``max_preemptions`` times.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType

from reactclip.engine.backends.base import (
    Backend,
    BackendError,
    BackendOutOfMemory,
    Interrupted,
    ProgressCallback,
    RenderedFrames,
    StepProgress,
    StopCheck,
)
from reactclip.engine.cache.store import ClipStore
from reactclip.engine.clip import Clip
from reactclip.engine.clipmaker import ClipMaker, Inspector
from reactclip.engine.encode import DISCORD_UPLOAD_LIMIT
from reactclip.engine.executor.abtest import DEFAULT_VARIANT
from reactclip.engine.executor.base import ExecutorStats
from reactclip.engine.executor.batching import pick_batch
from reactclip.engine.executor.core import AlertHook, ExecutorCore, deliver, fail_all
from reactclip.engine.executor.errors import Busy, Cancelled, ShuttingDown
from reactclip.engine.executor.events import Decoding, EventCallback, Queued, Started, Step
from reactclip.engine.executor.failover import Failover
from reactclip.engine.executor.handle import ClipHandle
from reactclip.engine.executor.load import CostModel, degrade, load
from reactclip.engine.executor.queue import FairQueue, Job, Priority
from reactclip.engine.executor.settings import ExecutorSettings
from reactclip.engine.metrics import BATCH_SIZE, ENCODE_SECONDS, PEAK_GPU_MEMORY, RENDER_SECONDS
from reactclip.engine.spec import GenerationSpec

log = logging.getLogger(__name__)

PROBE_SPEC = GenerationSpec(prompt="probe", width=128, height=128, frames=8, fps=8, steps=1)
"""The smallest spec there is: enough to tell whether a backend works at all."""

BackendFactory = Callable[[str], Backend]
"""Builds a backend by name: a variant (the spec's ``variant``) or a fallback from the settings."""
CachePolicy = Callable[[Clip], bool]
KeyFunction = Callable[[GenerationSpec], str]


@dataclass
class _Rendered:
    frames: RenderedFrames
    backend: Backend
    link: str
    """The chain entry that made them: the spec's variant, or a fallback name."""


_Outcome = _Rendered | BaseException


def empty_cuda_cache() -> None:
    """Return cached allocator blocks after an OOM; torch is only consulted if a backend loaded it."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


class InProcessExecutor(ExecutorCore):
    """Queues, batches and renders requests on one GPU owned by one worker thread.

    ``backends(name)`` builds a backend on the worker thread the first time a name is needed: a
    spec's ``variant`` (the A/B arm when ``settings.variants`` is set and the spec left the variant
    at "default"; otherwise "default" or the caller's choice) or a fallback name from the settings.
    """

    def __init__(
        self,
        backends: BackendFactory,
        settings: ExecutorSettings | None = None,
        *,
        upload_limit_bytes: int = DISCORD_UPLOAD_LIMIT,
        inspect: Inspector | None = None,
        may_cache: CachePolicy | None = None,
        store: ClipStore | None = None,
        key_fn: KeyFunction | None = None,
        on_alert: AlertHook | None = None,
    ) -> None:
        settings = settings or ExecutorSettings()
        super().__init__(settings, on_alert)
        self._factory = backends
        self._upload_limit = upload_limit_bytes
        self._inspect = inspect
        self._may_cache = may_cache
        self._store = store
        self._key_fn = key_fn

        self._failover = Failover(settings.fallbacks, settings.failure_threshold)
        self._cost = CostModel(settings.seconds_per_unit, settings.batch_overhead_s)
        self._queues = {priority: FairQueue() for priority in Priority}
        self._inflight: dict[str, Job] = {}
        self._running: list[Job] = []
        self._running_since = 0.0
        self._running_estimate = 0.0
        self._reference_spec = GenerationSpec(prompt="reference")
        """The last interactive request's spec: what ``load()`` without a spec is about."""
        self._stop_request: threading.Event | None = None
        """Set to ask the call on the GPU to stop; None while the running call may not be preempted."""
        self._variants_ok: set[str] = set(settings.variants)
        """Variants the primary has rendered: what the probe checks (a bogus name would never pass)."""
        self._made: Counter[str] = Counter()

        self._backends: dict[str, Backend] = {}
        """Touched only on the GPU thread."""
        self._gpu = ThreadPoolExecutor(1, thread_name_prefix="reactclip-gpu")
        self._encoders = ThreadPoolExecutor(settings.encode_workers, thread_name_prefix="reactclip-encode")
        self._wakeup = asyncio.Event()
        self._dispatcher: asyncio.Task[None] | None = None
        self._watches: list[asyncio.Task[None]] = []
        """The probe of a failed primary and the load watch, cancelled at the end."""
        self._stopped: asyncio.Task[None] | None = None

    async def __aenter__(self) -> InProcessExecutor:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
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
        Raises Busy over the queue cap and ShuttingDown once shutdown has begun."""
        self._check_open()
        self._start()
        priority = Priority(priority)
        handle = self._new_handle(spec, priority, guild, user, on_event)
        spec = handle.spec

        key = self._key(spec)
        cached = await self._lookup(key)
        job: Job | None = None
        if cached is None:
            self._check_open()  # shutdown may have begun during the lookup
            job = self._inflight.get(key) if key else None
            if priority is Priority.INTERACTIVE:
                self._reference_spec = spec
            smaller = self._degraded(spec) if job is None and priority is Priority.INTERACTIVE else None
            if smaller is not None:
                self.counters["degraded"] += 1
                handle.spec, handle.degraded, spec = smaller, True, smaller
                key = self._key(spec)
                # A degraded clip of the same request made under earlier load is as good as a new one.
                cached = await self._lookup(key)
                if cached is None:
                    self._check_open()
                    job = self._inflight.get(key) if key else None
        if self._store is not None and key is not None:
            self.counters["cache_hits" if cached is not None else "cache_misses"] += 1
        if cached is not None:
            handle._resolve(cached)
            return handle
        if job is not None:
            self._join(job, handle)
            return handle

        queue = self._queues[priority]
        cap = self.settings.queue_cap if priority is Priority.INTERACTIVE else self.settings.batch_queue_cap
        guild_full = (
            priority is Priority.INTERACTIVE and queue.count(handle.guild) >= self.settings.guild_queue_cap
        )
        if len(queue) >= cap or guild_full:
            self.counters["busy"] += 1
            raise Busy(self._retry_after())
        job = Job(spec, priority, handle.guild, user, key=key, degraded=handle.degraded, handles=[handle])
        queue.push(job)
        if key:
            self._inflight[key] = job
        handle._emit(self._queued(job))
        if priority is Priority.INTERACTIVE:
            self._preempt_for(job)
        self._wakeup.set()
        return handle

    async def load_backend(self, name: str = DEFAULT_VARIANT) -> Backend:
        """Build a backend now rather than for its first request, so that a process that owns a
        GPU (a distributed worker) loads its weights, or fails to, before it takes any work."""
        return await asyncio.get_running_loop().run_in_executor(self._gpu, self._backend, name)

    async def renderer_name(self) -> str | None:
        link = self._failover.backend_for(DEFAULT_VARIANT)
        backend = await asyncio.get_running_loop().run_in_executor(self._gpu, self._backend, link)
        return backend.name

    def load(self, spec: GenerationSpec | None = None) -> float:
        """How much of its latency budget an interactive request for ``spec`` would now spend (see
        load.py); without a spec, for one like the last interactive request (or the default spec)."""
        own_s = self._estimate([spec or self._reference_spec])
        return load(self._wait_ahead(own_s), own_s, self.settings.interactive_latency_x)

    def expected_wait_s(self, spec: GenerationSpec) -> float | None:
        backend = self._failover.backend_for(spec.variant)
        if not self._cost.knows(backend):
            return None
        own_s = self._estimate([spec])
        return self._wait_ahead(own_s) + own_s

    def wait_ahead(self, spec: GenerationSpec | None = None) -> float:
        """Estimated seconds a new interactive request would wait before its own call starts."""
        return self._wait_ahead(self._estimate([spec or self._reference_spec]))

    def _wait_ahead(self, own_s: float) -> float:
        running_s = self._running_remaining()
        if self._would_preempt(own_s):
            running_s = min(running_s, self._running_estimate / max(self._running[0].spec.steps, 1))
        queued = self._queues[Priority.INTERACTIVE].ordered()
        return running_s + sum(self._estimate([job.spec]) for job in queued)

    def stats(self) -> ExecutorStats:
        return ExecutorStats(
            queued={priority.value: len(queue) for priority, queue in self._queues.items()},
            load=round(self.load(), 3),
            running=len(self._running),
            backend=self._failover.describe(),
            variants=dict(self._made),
            assigned=dict(self._chooser.assigned) if self._chooser is not None else {},
            alerts=dict(self.alerts),
            counters=dict(self.counters),
        )

    async def shutdown(self, drain: bool = True) -> None:
        """Stop taking requests; finish the queued ones (drain) or fail them with ShuttingDown. The
        batch on the GPU always finishes and is delivered. Safe to call more than once."""
        self._closing = True
        if not drain:
            for queue in self._queues.values():
                for job in queue.ordered():
                    queue.remove(job)
                    self._forget(job)
                    for handle in job.handles:
                        handle._fail(ShuttingDown())
        self._wakeup.set()
        if self._stopped is None:
            self._stopped = asyncio.ensure_future(self._stop())
        await asyncio.shield(self._stopped)

    # Admission.

    def _start(self) -> None:
        if self._dispatcher is None:
            self._dispatcher = asyncio.create_task(self._dispatch(), name="reactclip-dispatcher")
            self._dispatcher.add_done_callback(self._dispatcher_stopped)
            self._watches = [
                asyncio.create_task(self._probe(), name="reactclip-prober"),
                asyncio.create_task(self._watch_load(), name="reactclip-load-watch"),
            ]

    def _key(self, spec: GenerationSpec) -> str | None:
        return self._key_fn(spec) if self._key_fn is not None else None

    async def _lookup(self, key: str | None) -> Clip | None:
        """The stored clip for ``key``, marked as a hit (``submit`` tallies hits and misses)."""
        if self._store is None or key is None:
            return None
        try:
            clip = await self._store.get(key)
        except Exception as exc:  # a store is an optimisation, never a reason to fail
            log.warning("cache lookup failed: %s", exc)
            clip = None
        return None if clip is None else dataclasses.replace(clip, cache_hit=True)

    def _degraded(self, spec: GenerationSpec) -> GenerationSpec | None:
        """The smaller spec an interactive request gets above the load threshold; None below it
        (or when ``spec`` is already that small)."""
        if self.load(spec) <= self.settings.degrade_threshold:
            return None
        s = self.settings
        return degrade(spec, s.degrade_to, s.degraded_size, s.degraded_frames)

    def _join(self, job: Job, handle: ClipHandle) -> None:
        """Attach an identical request to a job already in flight; an interactive one promotes it."""
        self.counters["shared"] += 1
        job.handles.append(handle)
        handle.spec, handle.degraded = job.spec, job.degraded
        if job.clip is not None:  # made and delivered; only its cache put is still running
            self._deliver(job, handle)
            return
        promote = handle.priority == Priority.INTERACTIVE and job.priority is Priority.BATCH
        if promote and self._queues[Priority.BATCH].remove(job):
            job.priority = Priority.INTERACTIVE
            self._queues[Priority.INTERACTIVE].push(job)
            self._preempt_for(job)
            self._wakeup.set()
        if job in self._queues[job.priority]:
            handle._emit(self._queued(job))
        elif job.started_at is not None:
            handle._emit(Started(self._failover.backend_for(job.spec.variant), 1))

    def _estimate(self, specs: Sequence[GenerationSpec]) -> float:
        return self._cost.estimate(specs, self._failover.backend_for(specs[0].variant))

    def _running_remaining(self) -> float:
        if not self._running:
            return 0.0
        return max(self._running_estimate - (time.monotonic() - self._running_since), 0.0)

    def _retry_after(self) -> float:
        """Until one place frees up: the running batch's remainder plus the next job."""
        queued = self._queues[Priority.INTERACTIVE].ordered() or self._queues[Priority.BATCH].ordered()
        return self._running_remaining() + (self._estimate([queued[0].spec]) if queued else 0.0)

    def _queued(self, job: Job) -> Queued:
        """The Queued event of a job waiting now: its place, and its wait from the cost model
        (the running call's remainder, the jobs ahead of it and its own render), or None while
        the backend has never been timed here."""
        ahead = self._queues[Priority.INTERACTIVE].ordered()
        if job.priority is Priority.INTERACTIVE:
            ahead = ahead[: ahead.index(job)]
        else:
            batch = self._queues[Priority.BATCH].ordered()
            ahead = ahead + batch[: batch.index(job)]
        wait_s: float | None = None
        if self._cost.knows(self._failover.backend_for(job.spec.variant)):
            work = sum(self._estimate([queued.spec]) for queued in [*ahead, job])
            wait_s = round(self._running_remaining() + work, 2)
        return Queued(len(ahead), job.degraded, wait_s)

    def _announce_positions(self) -> None:
        """Tell every queued interactive request its new place once a call has started."""
        for job in self._queues[Priority.INTERACTIVE].ordered():
            event = self._queued(job)
            for handle in job.handles:
                handle._emit(event)

    def _cancel(self, handle: ClipHandle) -> None:
        handle._fail(Cancelled())
        self.counters["cancelled"] += 1
        for queue in self._queues.values():
            for job in queue.ordered():
                if handle in job.handles:
                    job.handles.remove(handle)
                    if not job.handles:
                        queue.remove(job)
                        self._forget(job)
                        self._wakeup.set()
                    return
        # Running or encoding: it finishes for the others (and the cache); this handle is done.

    # The dispatcher: picks a batch whenever the GPU is free.

    async def _dispatch(self) -> None:
        s = self.settings
        while True:
            self._wakeup.clear()
            jobs, wake_at = pick_batch(
                self._queues[Priority.INTERACTIVE],
                self._queues[Priority.BATCH],
                max_interactive_batch=s.max_interactive_batch,
                max_batch=s.max_batch,
                max_wait_s=s.max_wait_s,
                now=time.monotonic(),
                flush=self._closing,
            )
            if not jobs:
                if self._closing and not any(self._queues.values()):
                    return
                timeout = None if wake_at is None else max(wake_at - time.monotonic(), 0.0)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), timeout)
                continue
            for job in jobs:
                self._queues[job.priority].take(job)
            try:
                await self._run(jobs)
            except Exception as exc:  # a bug here must not stop the queue or strand the handles
                log.exception("executor: running a batch of %d failed unexpectedly", len(jobs))
                for job in jobs:
                    self._fail(job, exc)

    def _preempt_for(self, urgent: Job) -> None:
        """Ask the batch-class call on the GPU to stop at its next step so that ``urgent`` runs next,
        unless someone interactive waits on that call too or it is nearly done: its steps so far are
        lost, so preempting pays only when the wait it saves is worth more than
        ``preempt_ratio`` x the urgent job's own cost."""
        if self._stop_request is not None and self._would_preempt(self._estimate([urgent.spec])):
            self._stop_request.set()

    def _would_preempt(self, urgent_s: float) -> bool:
        """Whether the running call is one an interactive job costing ``urgent_s`` stops (or has
        stopped already)."""
        if self._stop_request is None:
            return False
        if self._stop_request.is_set():
            return True
        if any(handle.priority == Priority.INTERACTIVE for job in self._running for handle in job.handles):
            return False  # an interactive request joined a running job: stopping it would delay that one
        return self._running_remaining() > self.settings.preempt_ratio * urgent_s

    def _preemptible(self, jobs: list[Job]) -> bool:
        """Batch-class work that has not been preempted too often already; interactive never is."""
        s = self.settings
        return (
            s.preempt
            and all(job.priority is Priority.BATCH for job in jobs)
            and max(job.preemptions for job in jobs) < s.max_preemptions
        )

    def _requeue(self, jobs: list[Job]) -> None:
        """Put preempted jobs back at the front of the batch queue; their handles keep waiting. A job
        an interactive request joined meanwhile goes to the interactive queue instead, and one that
        everybody cancelled is dropped."""
        self.counters["preemptions"] += 1
        log.info("preempted a batch of %d for interactive work", len(jobs))
        again: list[Job] = []
        for job in jobs:
            job.preemptions += 1
            job.started_at = None
            if all(handle.done() for handle in job.handles):
                self._forget(job)
            elif any(handle.priority == Priority.INTERACTIVE for handle in job.handles):
                job.priority = Priority.INTERACTIVE
                self._queues[Priority.INTERACTIVE].push(job)
            else:
                again.append(job)
        self._queues[Priority.BATCH].push_front(again)
        for job in jobs:
            if job in self._queues[job.priority]:
                for handle in job.handles:
                    handle._emit(self._queued(job))

    def _dispatcher_stopped(self, task: asyncio.Task[None]) -> None:
        """Only shutdown should stop the dispatcher; if a bug does, no queued handle is left waiting."""
        if task.cancelled() or task.exception() is None:
            return
        log.error("the executor's dispatcher stopped", exc_info=task.exception())
        self._closing = True
        for queue in self._queues.values():
            for job in queue.ordered():
                queue.remove(job)
                self._fail(job, ShuttingDown())

    async def _run(self, jobs: list[Job]) -> None:
        now = time.monotonic()
        self._running, self._running_since = jobs, now
        self._running_estimate = self._estimate([job.spec for job in jobs])
        self._stop_request = stop = threading.Event() if self._preemptible(jobs) else None
        link = self._failover.backend_for(jobs[0].spec.variant)
        for job in jobs:
            job.started_at = now
            for handle in job.handles:
                handle._emit(Started(link, len(jobs)))
        self._announce_positions()
        BATCH_SIZE.labels(jobs[0].priority.value).observe(len(jobs))
        try:
            outcomes = await self._render(jobs, attempt=0, should_stop=stop.is_set if stop else None)
        finally:
            self._running, self._stop_request = [], None
        preempted = [job for job, outcome in outcomes if isinstance(outcome, Interrupted)]
        if preempted:
            self._requeue(preempted)
        for job, outcome in outcomes:
            if not isinstance(outcome, Interrupted):
                self._spawn(self._finish(job, outcome))

    async def _render(
        self, jobs: list[Job], attempt: int, should_stop: StopCheck | None = None
    ) -> list[tuple[Job, _Outcome]]:
        """Render on the active backend; split on OOM, retry on failure, count failures for failover.
        A call stopped by ``should_stop`` gives Interrupted outcomes: no failure, no retry."""
        loop = asyncio.get_running_loop()
        link = self._failover.backend_for(jobs[0].spec.variant)
        specs = [job.spec for job in jobs]

        def progress(step: StepProgress) -> None:
            loop.call_soon_threadsafe(self._on_step, jobs, step)

        error: BaseException
        try:
            backend, frames, seconds = await loop.run_in_executor(
                self._gpu, self._generate, link, specs, progress, should_stop
            )
        except Interrupted as exc:
            return [(job, exc) for job in jobs]
        except BackendOutOfMemory as exc:
            await loop.run_in_executor(self._gpu, empty_cuda_cache)
            if len(jobs) > 1:
                self.counters["oom_splits"] += 1
                half = len(jobs) // 2
                log.warning("out of memory on %s with %d specs; splitting the batch", link, len(jobs))
                first = await self._render(jobs[:half], attempt, should_stop)
                if any(isinstance(outcome, Interrupted) for _, outcome in first):
                    return first + [(job, Interrupted(0, job.spec.steps)) for job in jobs[half:]]
                return first + await self._render(jobs[half:], attempt, should_stop)
            error = exc
        except Exception as exc:
            error = exc
        else:
            self._failover.record_success()
            self._cost.observe(specs, link, seconds)
            RENDER_SECONDS.labels(backend.name, link).observe(seconds)
            if link == jobs[0].spec.variant:
                self._variants_ok.add(link)
            return [(job, _Rendered(r, backend, link)) for job, r in zip(jobs, frames, strict=True)]

        self.counters["failures"] += 1
        log.warning(
            "requests %s failed on %s (attempt %d): %s: %s",
            ",".join(job.handles[0].id for job in jobs if job.handles),
            link,
            attempt + 1,
            type(error).__name__,
            error,
        )
        alert = self._failover.record_failure(link, error)
        if alert is not None:
            self._raise_alert(alert)
        if attempt < self.settings.retries:
            self.counters["retries"] += 1
            return await self._render(jobs, attempt + 1, should_stop)
        return [(job, error) for job in jobs]

    def _generate(
        self,
        link: str,
        specs: list[GenerationSpec],
        progress: ProgressCallback | None,
        should_stop: StopCheck | None = None,
    ) -> tuple[Backend, list[RenderedFrames], float]:
        """On the GPU thread: build the backend on first use, then render."""
        backend = self._backend(link)
        start = time.perf_counter()
        frames = backend.generate(specs, progress, should_stop)
        if len(frames) != len(specs):
            raise BackendError(f"{backend.name} returned {len(frames)} clips for {len(specs)} specs")
        return backend, frames, time.perf_counter() - start

    def _backend(self, name: str) -> Backend:
        """On the GPU thread: the named backend, built on first use."""
        backend = self._backends.get(name)
        if backend is None:
            backend = self._backends[name] = self._factory(name)
        return backend

    def _on_step(self, jobs: list[Job], step: StepProgress) -> None:
        for job in jobs:
            for handle in job.handles:
                handle._emit(Step(step.stage, step.step, step.total))
            if step.stage == "denoising" and step.step == step.total:
                self._decoding(job)

    def _decoding(self, job: Job) -> None:
        if not job.decoding_sent:
            job.decoding_sent = True
            for handle in job.handles:
                handle._emit(Decoding())

    # After the GPU: inspect, encode, cache, deliver.

    async def _finish(self, job: Job, outcome: _Outcome) -> None:
        if isinstance(outcome, BaseException):
            self._fail(job, outcome)
            return
        if not job.handles and self._store is None:
            self._forget(job)  # everyone cancelled and nothing to keep it for
            return
        self._decoding(job)
        try:
            loop = asyncio.get_running_loop()
            clip = await loop.run_in_executor(self._encoders, self._encode, job, outcome)
        except Exception as exc:
            self._fail(job, exc)
            return
        self._made[clip.variant] += 1
        ENCODE_SECONDS.observe(clip.timings.encoding)
        if clip.peak_gpu_memory_bytes is not None:
            PEAK_GPU_MEMORY.labels(clip.backend).observe(clip.peak_gpu_memory_bytes)
        job.clip, job.made_by = clip, outcome.link
        for handle in job.handles:
            self._deliver(job, handle)
        # The requesters have their clip; storing it is for the next one. The job stays in flight
        # until the put is done, so an identical request meanwhile joins it and gets this clip.
        await self._put(job, clip)
        self._forget(job)

    @staticmethod
    def _deliver(job: Job, handle: ClipHandle) -> None:
        assert job.clip is not None
        handle.made_by = job.made_by
        deliver(handle, job.clip, job.started_at)

    def _encode(self, job: Job, rendered: _Rendered) -> Clip:
        """On an encode thread: the inspector sees the frames before anything is encoded or kept."""
        clip = ClipMaker(rendered.backend, self._upload_limit, self._inspect).encode(
            job.spec, rendered.frames
        )
        # Under an A/B rollout a clip is tagged with its arm; a fallback's clip keeps the fallback's.
        on_arm = self._chooser is not None and rendered.link == job.spec.variant
        return dataclasses.replace(
            clip,
            variant=job.spec.variant if on_arm else clip.variant,
            degraded=job.degraded,
        )

    async def _put(self, job: Job, clip: Clip) -> None:
        # A fallback's clip is not what the key names (the primary's pixels): never cache it.
        if self._store is None or job.key is None or job.made_by != job.spec.variant:
            return
        if self._may_cache is not None and not self._may_cache(clip):
            return
        try:
            await self._store.put(job.key, clip)
        except Exception as exc:
            log.warning("cache put failed: %s", exc)

    def _fail(self, job: Job, error: BaseException) -> None:
        self._forget(job)
        fail_all(job.handles, error)

    def _forget(self, job: Job) -> None:
        key = job.key
        if key is not None and self._inflight.get(key) is job:
            del self._inflight[key]

    # Failover: the probe that switches back.

    async def _probe(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.settings.probe_interval_s)
            if self._failover.on_primary:
                continue
            try:
                for variant in sorted(self._variants_ok) or [DEFAULT_VARIANT]:
                    spec = PROBE_SPEC.replace(variant=variant)
                    await loop.run_in_executor(self._gpu, self._generate, variant, [spec], None)
            except Exception as exc:
                self.counters["probe_failures"] += 1
                log.info("probe of the primary backend failed: %s: %s", type(exc).__name__, exc)
                continue
            log.warning("the primary backend works again; switching back from %s", self._failover.describe())
            self.counters["recoveries"] += 1
            self._failover.recover()

    async def _stop(self) -> None:
        if self._dispatcher is not None:
            await asyncio.gather(self._dispatcher, return_exceptions=True)  # a crash is logged already
        await self._drain_tasks()
        for watch in self._watches:
            watch.cancel()
        await asyncio.gather(*self._watches, return_exceptions=True)
        await asyncio.get_running_loop().run_in_executor(self._gpu, self._close_backends)
        self._gpu.shutdown(wait=False)
        self._encoders.shutdown(wait=False)

    def _close_backends(self) -> None:
        for name, backend in self._backends.items():
            try:
                backend.close()
            except Exception:
                log.exception("closing backend %s failed", name)
        self._backends.clear()
