"""The in-process executor end to end, on a backend whose cost follows a simple deterministic model.

``CostModelBackend`` wraps the real sticker renderer: each call can wait on a gate (so a test can
hold the GPU busy while it queues work), records the batch, fails or runs out of memory on demand,
and reports Wan-like denoising steps, stopping between them when asked. Specs are tiny so the
directory runs in seconds.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, TypeVar

import numpy as np
import pytest

from reactclip.engine.backends.base import (
    BackendError,
    BackendOutOfMemory,
    Interrupted,
    ProgressCallback,
    RenderedFrames,
    StepProgress,
    StopCheck,
)
from reactclip.engine.backends.sticker import StickerBackend
from reactclip.engine.clip import Clip
from reactclip.engine.encode import probe_video
from reactclip.engine.executor import (
    Alert,
    Busy,
    Cancelled,
    ClipHandle,
    Decoding,
    Done,
    ExecutorSettings,
    GenerationFailed,
    InProcessExecutor,
    Overloaded,
    Priority,
    ProgressEvent,
    Queued,
    ShuttingDown,
    Started,
    Step,
)
from reactclip.engine.executor import executor as executor_module
from reactclip.engine.spec import GenerationSpec, OutputFormat

T = TypeVar("T")


def run(coro: Awaitable[T]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coro, timeout=20)

    return asyncio.run(bounded())


def spec(prompt: str, **changes: Any) -> GenerationSpec:
    fields: dict[str, Any] = {"prompt": prompt, "width": 128, "height": 128, "frames": 8, "steps": 2}
    return GenerationSpec(**(fields | changes))


class CostModelBackend:
    """Sleeps ``overhead_s + seconds_per_unit * pixel-frames`` per call, spread over the steps, then
    draws with the sticker. With ``one_at_a_time`` the gate closes behind every call, so a test lets
    calls through one by one (``next_call``)."""

    name = "costmodel"

    def __init__(
        self, variant: str = "cm-1", overhead_s: float = 0.0, gated: bool = False, one_at_a_time: bool = False
    ) -> None:
        self.variant = variant
        self.overhead_s = overhead_s
        self.gate = threading.Event()
        if not gated and not one_at_a_time:
            self.gate.set()
        self.one_at_a_time = one_at_a_time
        self.entered = threading.Event()
        self.waiting: list[str] = []
        """The prompts of the call that last reached the gate."""
        self.batches: list[list[str]] = []
        self.interrupted: list[tuple[list[str], int]] = []
        """(prompts, steps done) of every call that stopped early."""
        self.failures: deque[BaseException] = deque()
        self.broken = False
        self.max_batch_in_memory: int | None = None
        self._sticker = StickerBackend()

    def generate(
        self,
        specs: Sequence[GenerationSpec],
        on_progress: ProgressCallback | None = None,
        should_stop: StopCheck | None = None,
    ) -> list[RenderedFrames]:
        prompts = [s.prompt for s in specs]
        self.waiting = prompts
        self.entered.set()
        assert self.gate.wait(10), "the test never opened the gate"
        if self.one_at_a_time:
            self.gate.clear()
        self.batches.append(prompts)
        if self.failures:
            raise self.failures.popleft()
        if self.broken:
            raise BackendError("the GPU fell off the bus")
        if self.max_batch_in_memory is not None and len(specs) > self.max_batch_in_memory:
            raise BackendOutOfMemory(f"{len(specs)} specs do not fit")
        steps = specs[0].steps
        seconds = self.overhead_s + 1e-8 * sum(s.width * s.height * s.frames for s in specs)
        for step in range(steps):
            time.sleep(seconds / steps)
            if on_progress is not None:
                on_progress(StepProgress("denoising", step + 1, steps))
            if should_stop is not None and step + 1 < steps and should_stop():
                self.interrupted.append((prompts, step + 1))
                raise Interrupted(step + 1, steps)
        return self._sticker.generate(specs)

    def close(self) -> None:
        pass

    def ran(self) -> list[str]:
        """Every prompt rendered, in order (probes excluded)."""
        return [p for batch in self.batches for p in batch if p != "probe"]


def make_executor(
    backends: dict[str, Any], **settings: Any
) -> tuple[InProcessExecutor, Callable[[str], Any]]:
    def factory(name: str) -> Any:
        return backends[name]

    fields: dict[str, Any] = {"max_wait_s": 0.0, "probe_interval_s": 0.05} | settings
    return InProcessExecutor(factory, ExecutorSettings(**fields)), factory


async def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition never became true"
        await asyncio.sleep(0.01)


async def next_call(backend: CostModelBackend) -> list[str]:
    """Wait until the next call of a one-at-a-time backend reaches its gate and return its prompts;
    it runs once the test sets ``backend.gate``."""
    assert await asyncio.to_thread(backend.entered.wait, 5), "no call reached the backend"
    backend.entered.clear()
    return backend.waiting


async def hold_gpu(executor: InProcessExecutor, backend: CostModelBackend) -> ClipHandle:
    """Submit a blocker and wait until it is inside the backend, stuck on the gate."""
    blocker = await executor.submit(spec("blocker"), guild="ops", user="ops")
    await asyncio.to_thread(backend.entered.wait, 5)
    return blocker


# Priority, batching, waiting.


def test_an_interactive_request_runs_before_batch_work_that_was_queued_first() -> None:
    async def main() -> list[str]:
        gpu = CostModelBackend(gated=True)
        executor, _ = make_executor({"default": gpu}, max_batch=1)
        blocker = await hold_gpu(executor, gpu)
        batch = [await executor.submit(spec(f"batch{i}"), Priority.BATCH, user=f"u{i}") for i in range(3)]
        urgent = await executor.submit(spec("urgent"), Priority.INTERACTIVE, user="x")
        gpu.gate.set()
        await asyncio.gather(blocker, urgent, *batch)
        await executor.shutdown()
        return gpu.ran()

    assert run(main()) == ["blocker", "urgent", "batch0", "batch1", "batch2"]


def test_only_specs_with_the_same_batch_key_share_a_call() -> None:
    async def main() -> list[list[str]]:
        gpu = CostModelBackend(gated=True)
        executor, _ = make_executor({"default": gpu}, max_batch=4, max_wait_s=0.05)
        blocker = await hold_gpu(executor, gpu)
        handles = []
        for i in range(5):
            size = {"width": 256, "height": 256} if i % 2 else {}
            handles.append(await executor.submit(spec(f"{i}", **size), Priority.BATCH, user=f"u{i}"))
        gpu.gate.set()
        await asyncio.gather(blocker, *handles)
        await executor.shutdown()
        return gpu.batches

    batches = run(main())
    assert batches == [["blocker"], ["0", "2", "4"], ["1", "3"]]


def test_a_lone_batch_request_waits_for_company_no_longer_than_max_wait() -> None:
    async def main() -> tuple[float, float]:
        gpu = CostModelBackend()
        executor, _ = make_executor({"default": gpu}, max_batch=4, max_wait_s=0.3)
        started: dict[str, float] = {}

        def stamp(name: str) -> Callable[[ProgressEvent], None]:
            def on_event(event: ProgressEvent) -> None:
                if isinstance(event, Started):
                    started.setdefault(name, time.monotonic())

            return on_event

        t0 = time.monotonic()
        lone = await executor.submit(spec("lone"), Priority.BATCH, on_event=stamp("lone"))
        await lone
        t1 = time.monotonic()
        full = [
            await executor.submit(spec(f"f{i}"), Priority.BATCH, user=f"u{i}", on_event=stamp("full"))
            for i in range(4)
        ]
        await asyncio.gather(*full)
        await executor.shutdown()
        return started["lone"] - t0, started["full"] - t1

    lone_wait, full_wait = run(main())
    assert 0.28 <= lone_wait < 0.6
    assert full_wait < 0.1


# Load, degradation, the queue cap.


@pytest.mark.parametrize("degrade_to", ["size", "frames"])
def test_interactive_requests_are_degraded_above_80_percent_load(degrade_to: str) -> None:
    async def main() -> list[Clip]:
        gpu = CostModelBackend(gated=True)
        # Every job is estimated at 1 s, the running one included; a budget of 10.5 s: with 7 jobs
        # queued a new one would take (7 + 1 + 1) / 10.5 = 0.86 of it, with 6 queued 0.76.
        executor, _ = make_executor(
            {"default": gpu},
            batch_overhead_s=1.0,
            seconds_per_unit=1e-9,
            interactive_latency_x=10.5,
            degrade_to=degrade_to,
        )
        blocker = await hold_gpu(executor, gpu)
        base = spec("x", width=448, height=256, frames=12, steps=1)
        handles = [await executor.submit(base.replace(seed=i), user=f"u{i}") for i in range(7)]
        assert not any(h.degraded for h in handles)
        assert executor.load() > 0.8
        handles.append(await executor.submit(base.replace(seed=99), user="late"))
        assert handles[-1].degraded
        gpu.gate.set()
        clips = await asyncio.gather(blocker, *handles)
        assert executor.stats().counters["degraded"] == 1
        await executor.shutdown()
        return clips[1:]

    clips = run(main())
    assert not any(c.degraded for c in clips[:-1])
    assert all((c.width, c.height, c.frames) == (448, 256, 12) for c in clips[:-1])
    late = clips[-1]
    assert late.degraded
    expected = (320, 240, 12) if degrade_to == "size" else (448, 256, 8)
    assert (late.width, late.height, late.frames) == expected


@pytest.mark.parametrize("running", ["batch it will preempt", "interactive call"])
def test_load_counts_only_a_step_of_a_running_call_the_request_will_preempt(running: str) -> None:
    async def main() -> tuple[bool, float]:
        gpu = CostModelBackend(gated=True)
        # Every call is estimated at 1 s; the budget is 1.5x a request's own 1 s.
        executor, _ = make_executor(
            {"default": gpu}, batch_overhead_s=1.0, seconds_per_unit=1e-9, interactive_latency_x=1.5
        )
        if running == "interactive call":
            first = [await hold_gpu(executor, gpu)]
        else:
            first = await submit_batch(executor)
            await asyncio.to_thread(gpu.entered.wait, 5)
        urgent_spec = spec("urgent", width=448, height=256)  # larger than the degraded size
        wait_s = executor.wait_ahead(urgent_spec)
        urgent = await executor.submit(urgent_spec, user="x")
        gpu.gate.set()
        await asyncio.gather(urgent, *first)
        await executor.shutdown()
        return urgent.degraded, wait_s

    degraded, wait_s = run(main())
    if running == "interactive call":
        # It waits the whole call out: (~1 s + 1 s) / 1.5 s is over 0.8.
        assert degraded and wait_s > 0.5
    else:
        # The batch stops at its next step (1 s / 20 steps): (0.05 s + 1 s) / 1.5 s = 0.7.
        assert not degraded and wait_s <= 0.05 + 1e-6


def test_requests_over_the_queue_cap_are_refused_with_busy() -> None:
    async def main() -> None:
        gpu = CostModelBackend(gated=True)
        executor, _ = make_executor({"default": gpu}, queue_cap=2)
        blocker = await hold_gpu(executor, gpu)
        queued = [await executor.submit(spec(f"q{i}"), user=f"u{i}") for i in range(2)]
        with pytest.raises(Busy, match=r"^busy, try again in \d+ s$") as refused:
            await executor.submit(spec("one too many"), user="u9")
        assert refused.value.retry_after_s >= 1
        assert executor.stats().counters["busy"] == 1
        gpu.gate.set()
        await asyncio.gather(blocker, *queued)
        await executor.submit(spec("room again"))
        await executor.shutdown()

    run(main())


# Preemption: interactive work stops a batch-class call between steps.

BATCH = ["b0", "b1", "b2", "b3"]


async def submit_batch(executor: InProcessExecutor, **submit: Any) -> list[ClipHandle]:
    """Four compatible batch-class jobs, 20 steps each: one call that is long next to a 2-step job."""
    return [
        await executor.submit(spec(prompt, steps=20), Priority.BATCH, user=f"u{i}", **submit)
        for i, prompt in enumerate(BATCH)
    ]


def test_an_interactive_request_preempts_a_running_batch_which_runs_again_after_it() -> None:
    async def main() -> None:
        gpu = CostModelBackend(one_at_a_time=True)
        executor, _ = make_executor({"default": gpu}, batch_overhead_s=0.0)
        batch = await submit_batch(executor)
        assert await next_call(gpu) == BATCH
        urgent = await executor.submit(spec("urgent"), user="x")
        gpu.gate.set()
        assert await next_call(gpu) == ["urgent"]
        gpu.gate.set()
        assert await next_call(gpu) == BATCH
        assert (await urgent).spec.prompt == "urgent"  # delivered while the batch waits to run again
        assert not any(handle.done() for handle in batch)
        gpu.gate.set()
        clips = await asyncio.gather(*batch)
        seen = [event async for event in batch[0]]
        counters = executor.stats().counters
        await executor.shutdown()

        assert gpu.interrupted == [(BATCH, 1)]
        assert [c.spec.prompt for c in clips] == BATCH
        assert (counters["preemptions"], counters.get("failures", 0), counters.get("retries", 0)) == (1, 0, 0)
        assert seen == [
            Queued(position=0),
            Started(backend="default", batch_size=4),
            Step("denoising", 1, 20),
            Queued(position=1),  # behind the urgent job, ahead of every other batch job
            Started(backend="default", batch_size=4),
            *[Step("denoising", i, 20) for i in range(1, 21)],
            Decoding(),
            Done(cache_hit=False),
        ]
        # The clips are those an uninterrupted run makes.
        async with InProcessExecutor(lambda name: CostModelBackend()) as calm:
            expected = [await (await calm.submit(c.spec, Priority.BATCH)) for c in clips]
        assert [c.data for c in clips] == [c.data for c in expected]

    run(main())


def test_a_preempted_batch_keeps_its_place_ahead_of_batch_work_queued_later() -> None:
    async def main() -> None:
        gpu = CostModelBackend(one_at_a_time=True)
        executor, _ = make_executor({"default": gpu}, batch_overhead_s=0.0)
        batch = await submit_batch(executor)
        assert await next_call(gpu) == BATCH
        later = [
            await executor.submit(spec(f"later{i}", steps=20), Priority.BATCH, guild="other", user=f"v{i}")
            for i in range(4)
        ]
        urgent = await executor.submit(spec("urgent"), guild="other", user="x")
        gpu.gate.set()
        for expected in (["urgent"], BATCH, [f"later{i}" for i in range(4)]):
            assert await next_call(gpu) == expected
            gpu.gate.set()
        await asyncio.gather(urgent, *batch, *later)
        await executor.shutdown()

    run(main())


def test_a_batch_is_preempted_at_most_max_preemptions_times_then_runs_to_completion() -> None:
    async def main() -> None:
        gpu = CostModelBackend(one_at_a_time=True)
        executor, _ = make_executor({"default": gpu}, batch_overhead_s=0.0, max_preemptions=2)
        batch = await submit_batch(executor)
        urgent = []
        for i in range(3):
            assert await next_call(gpu) == BATCH
            urgent.append(await executor.submit(spec(f"i{i}"), user="x"))
            gpu.gate.set()
            assert await next_call(gpu) == [f"i{i}"]
            gpu.gate.set()
        clips = await asyncio.gather(*batch, *urgent)
        counters = executor.stats().counters
        await executor.shutdown()

        assert gpu.batches == [BATCH, ["i0"], BATCH, ["i1"], BATCH, ["i2"]]
        assert gpu.interrupted == [(BATCH, 1), (BATCH, 1)]
        assert [c.spec.prompt for c in clips] == [*BATCH, "i0", "i1", "i2"]
        assert counters["preemptions"] == 2 and counters.get("failures", 0) == 0

    run(main())


@pytest.mark.parametrize(
    "settings",
    [{"preempt": False}, {"preempt_ratio": 1000.0}],
    ids=["preemption off", "remainder not worth it"],
)
def test_without_preemption_an_interactive_request_waits_for_the_running_batch(
    settings: dict[str, Any],
) -> None:
    async def main() -> None:
        gpu = CostModelBackend(one_at_a_time=True)
        executor, _ = make_executor({"default": gpu}, batch_overhead_s=0.0, **settings)
        batch = await submit_batch(executor)
        assert await next_call(gpu) == BATCH
        urgent = await executor.submit(spec("urgent"), user="x")
        gpu.gate.set()
        assert await next_call(gpu) == ["urgent"]
        gpu.gate.set()
        await asyncio.gather(urgent, *batch)
        assert gpu.batches == [BATCH, ["urgent"]] and not gpu.interrupted
        assert "preemptions" not in executor.stats().counters
        await executor.shutdown()

    run(main())


def test_interactive_calls_and_batch_jobs_an_interactive_request_joined_are_never_preempted() -> None:
    async def main() -> None:
        gpu = CostModelBackend(one_at_a_time=True)
        executor = InProcessExecutor(
            lambda name: gpu, ExecutorSettings(max_wait_s=0.0, batch_overhead_s=0.0), key_fn=key_fn
        )
        first = await executor.submit(spec("first", steps=20), user="u1")
        assert await next_call(gpu) == ["first"]
        second = await executor.submit(spec("second"), user="u2")
        gpu.gate.set()
        assert await next_call(gpu) == ["second"]
        gpu.gate.set()
        await asyncio.gather(first, second)

        batch = await submit_batch(executor)
        assert await next_call(gpu) == BATCH
        joined = await executor.submit(spec("b2", steps=20), user="waiting for b2")
        urgent = await executor.submit(spec("urgent"), user="x")
        gpu.gate.set()
        assert await next_call(gpu) == ["urgent"]
        gpu.gate.set()
        await asyncio.gather(joined, urgent, *batch)
        assert not gpu.interrupted and executor.stats().counters["shared"] == 1
        await executor.shutdown()

    run(main())


# Failures: retry, OOM, failover.


def test_a_failed_batch_is_retried_once_then_fails_with_a_typed_error() -> None:
    async def main() -> None:
        gpu = CostModelBackend()
        executor, _ = make_executor({"default": gpu})
        gpu.failures.extend([BackendError("flaky")])
        clip = await (await executor.submit(spec("flaky once")))
        assert clip.backend == "costmodel"
        assert gpu.ran() == ["flaky once", "flaky once"]

        gpu.failures.extend([BackendError("bad"), BackendError("worse")])
        with pytest.raises(GenerationFailed, match="worse") as failed:
            await (await executor.submit(spec("fails twice")))
        assert isinstance(failed.value.__cause__, BackendError)
        assert gpu.ran().count("fails twice") == 2
        counters = executor.stats().counters
        assert (counters["failures"], counters["retries"], counters.get("alerts", 0)) == (3, 2, 0)
        await executor.shutdown()

    run(main())


def test_out_of_memory_empties_the_cache_and_splits_the_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    emptied: list[bool] = []
    monkeypatch.setattr(executor_module, "empty_cuda_cache", lambda: emptied.append(True))

    async def main() -> list[list[str]]:
        gpu = CostModelBackend()
        gpu.max_batch_in_memory = 2
        executor, _ = make_executor({"default": gpu}, max_batch=4)
        handles = [await executor.submit(spec(f"s{i}"), Priority.BATCH, user=f"u{i}") for i in range(4)]
        clips = await asyncio.gather(*handles)
        assert [c.spec.prompt for c in clips] == ["s0", "s1", "s2", "s3"]
        counters = executor.stats().counters
        assert counters["oom_splits"] == 1 and counters.get("failures", 0) == 0
        await executor.shutdown()
        return gpu.batches

    assert run(main()) == [["s0", "s1", "s2", "s3"], ["s0", "s1"], ["s2", "s3"]]
    assert emptied == [True]


def test_three_consecutive_failures_switch_to_the_backup_and_the_probe_switches_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    alerts: list[Alert] = []

    async def on_alert(alert: Alert) -> None:
        alerts.append(alert)

    async def main() -> None:
        gpu = CostModelBackend()
        gpu.broken = True
        backends: dict[str, Any] = {"default": gpu, "sticker": StickerBackend()}
        executor = InProcessExecutor(
            lambda name: backends[name],
            ExecutorSettings(probe_interval_s=0.05, failure_threshold=3),
            on_alert=on_alert,
        )
        # Failures 1 and 2: the first request and its retry, both on the primary.
        with pytest.raises(GenerationFailed):
            await (await executor.submit(spec("first")))
        assert executor.stats().backend == "primary" and not alerts
        # Failure 3 switches; the retry runs on the sticker.
        clip = await (await executor.submit(spec("second")))
        assert clip.backend == "sticker"
        assert gpu.ran() == ["first", "first", "second"]
        stats = executor.stats()
        assert stats.backend == "sticker"
        assert stats.counters["alerts"] == 1 and stats.counters["failures"] == 3
        await wait_until(lambda: len(alerts) == 1)
        assert alerts[0].failures == 3 and alerts[0].to_backend == "sticker"
        # While broken, probes fail and nothing switches back.
        await wait_until(lambda: executor.stats().counters.get("probe_failures", 0) >= 1)
        assert executor.stats().backend == "sticker"
        gpu.broken = False
        await wait_until(lambda: executor.stats().backend == "primary")
        clip = await (await executor.submit(spec("third")))
        assert clip.backend == "costmodel"
        assert executor.stats().counters["recoveries"] == 1
        await executor.shutdown()

    with caplog.at_level(logging.ERROR, logger="reactclip.engine.executor"):
        run(main())
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "3 consecutive failures" in errors[0]


def test_load_held_above_the_threshold_alerts_once_for_the_episode() -> None:
    alerts: list[Alert] = []

    async def on_alert(alert: Alert) -> None:
        alerts.append(alert)

    async def main() -> None:
        gpu = CostModelBackend(gated=True)
        settings = ExecutorSettings(max_wait_s=0.0, overload_alert_s=0.3, degrade_threshold=0.8)
        executor = InProcessExecutor(lambda name: gpu, settings, on_alert=on_alert)
        blocker = await hold_gpu(executor, gpu)
        waiting = [await executor.submit(spec(f"w{i}"), user=f"u{i}") for i in range(3)]
        assert executor.load() > 0.8
        await wait_until(lambda: len(alerts) == 1)
        await asyncio.sleep(0.5)  # still loaded: no second alert for the same episode
        [alert] = alerts
        assert isinstance(alert, Overloaded) and alert.load > 0.8 and alert.for_s >= 0.3
        assert executor.stats().alerts == {"overload": 1}
        gpu.gate.set()
        await asyncio.gather(blocker, *waiting)
        await wait_until(lambda: executor.load() <= 0.8)
        await executor.shutdown()

    run(main())


def test_an_alert_is_posted_to_the_webhook_url_when_one_is_set() -> None:
    pytest.importorskip("aiohttp")
    received: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"

    async def main() -> None:
        gpu = CostModelBackend()
        gpu.broken = True
        executor, _ = make_executor({"default": gpu, "sticker": StickerBackend()}, webhook_url=url)
        with pytest.raises(GenerationFailed):
            await (await executor.submit(spec("fails twice")))
        assert (await (await executor.submit(spec("fails, then switches")))).backend == "sticker"
        await wait_until(lambda: bool(received))
        await executor.shutdown()

    try:
        run(main())
    finally:
        server.shutdown()
    assert received[0]["event"] == "reactclip.executor.failover" and received[0]["failures"] == 3


# A/B rollout.


def test_each_user_sticks_to_a_variant_and_clips_are_tagged_with_it() -> None:
    async def main() -> None:
        arms = {"wan-a": CostModelBackend("model-a"), "wan-b": CostModelBackend("model-b")}
        executor, _ = make_executor(dict(arms), variants={"wan-a": 0.5, "wan-b": 0.5})
        chooser = executor._chooser
        assert chooser is not None
        users = [f"user{i}" for i in range(12)]
        first = [await (await executor.submit(spec("hi", seed=i), user=u)) for i, u in enumerate(users)]
        again = [await (await executor.submit(spec("hi", seed=i), user=u)) for i, u in enumerate(users)]
        assert [c.variant for c in first] == [c.variant for c in again]
        assert [c.variant for c in first] == [chooser.choose(u) for u in users]
        assert {c.variant for c in first} == {"wan-a", "wan-b"}
        for arm, backend in arms.items():
            assert len(backend.ran()) == 2 * sum(c.variant == arm for c in first)
        stats = executor.stats()
        assert sum(stats.variants.values()) == 24 and stats.variants == stats.assigned
        await executor.shutdown()

    run(main())


# Fairness and cancellation.


def test_a_guild_with_20_queued_requests_does_not_delay_another_guilds_single_request() -> None:
    async def main() -> list[str]:
        gpu = CostModelBackend(gated=True)
        executor, _ = make_executor({"default": gpu}, guild_queue_share=1.0)
        blocker = await hold_gpu(executor, gpu)
        flood = [await executor.submit(spec(f"a{i}"), guild="A", user="spammer") for i in range(20)]
        single = await executor.submit(spec("b"), guild="B", user="someone")
        gpu.gate.set()
        await asyncio.gather(blocker, single, *flood)
        await executor.shutdown()
        return gpu.ran()

    order = run(main())
    assert order.index("b") <= 2  # behind the blocker and at most one of guild A's


def test_one_guild_may_fill_only_its_share_of_the_queue_and_others_still_get_in() -> None:
    async def main() -> tuple[int, int, list[str]]:
        gpu = CostModelBackend(gated=True)
        executor, _ = make_executor({"default": gpu}, queue_cap=8, guild_queue_share=0.5)
        blocker = await hold_gpu(executor, gpu)
        accepted, refused = [], 0
        for i in range(6):
            try:
                accepted.append(await executor.submit(spec(f"a{i}"), guild="A", user=f"member{i}"))
            except Busy:
                refused += 1
        other = await executor.submit(spec("b"), guild="B", user="someone")
        gpu.gate.set()
        await asyncio.gather(blocker, other, *accepted)
        await executor.shutdown()
        return len(accepted), refused, gpu.ran()

    accepted, refused, ran = run(main())
    assert (accepted, refused) == (4, 2)  # half of the cap of 8
    assert "b" in ran


def test_cancelling_a_queued_request_frees_its_slot_and_it_never_runs() -> None:
    async def main() -> None:
        gpu = CostModelBackend(gated=True)
        executor, _ = make_executor({"default": gpu}, queue_cap=1)
        blocker = await hold_gpu(executor, gpu)
        deleted = await executor.submit(spec("deleted"), user="u1")
        with pytest.raises(Busy):
            await executor.submit(spec("waiting"), user="u2")
        deleted.cancel()
        with pytest.raises(Cancelled):
            await deleted
        waiting = await executor.submit(spec("waiting"), user="u2")
        running_cancelled = blocker
        running_cancelled.cancel()
        gpu.gate.set()
        await waiting
        with pytest.raises(Cancelled):
            await running_cancelled
        assert gpu.ran() == ["blocker", "waiting"]
        await executor.shutdown()

    run(main())


# Shutdown.


def test_shutdown_with_drain_finishes_everything_queued() -> None:
    async def main() -> None:
        gpu = CostModelBackend(gated=True)
        executor, _ = make_executor({"default": gpu}, max_wait_s=10.0)
        blocker = await hold_gpu(executor, gpu)
        queued = [await executor.submit(spec(f"q{i}"), Priority.BATCH, user=f"u{i}") for i in range(3)]
        stopping = asyncio.create_task(executor.shutdown(drain=True))
        await asyncio.sleep(0.05)
        with pytest.raises(ShuttingDown):
            await executor.submit(spec("too late"))
        gpu.gate.set()
        await stopping
        clips = await asyncio.gather(blocker, *queued)  # max_wait_s does not hold up a drain
        assert [c.spec.prompt for c in clips] == ["blocker", "q0", "q1", "q2"]

    run(main())


def test_shutdown_without_drain_fails_queued_requests_and_delivers_the_running_one() -> None:
    async def main() -> None:
        gpu = CostModelBackend(gated=True)
        executor, _ = make_executor({"default": gpu})
        blocker = await hold_gpu(executor, gpu)
        queued = [await executor.submit(spec(f"q{i}"), user=f"u{i}") for i in range(3)]
        stopping = asyncio.create_task(executor.shutdown(drain=False))
        await asyncio.sleep(0.05)
        assert all(h.done() for h in queued)
        for handle in queued:
            with pytest.raises(ShuttingDown):
                await handle
        gpu.gate.set()
        await stopping
        assert (await blocker).spec.prompt == "blocker"
        assert gpu.ran() == ["blocker"]

    run(main())


# Progress, caching, hooks.


def test_progress_events_arrive_in_order_through_the_iterator_and_the_callback() -> None:
    async def main() -> tuple[list[ProgressEvent], list[ProgressEvent]]:
        gpu = CostModelBackend()
        executor, _ = make_executor({"default": gpu})
        seen: list[ProgressEvent] = []
        handle = await executor.submit(spec("steps", steps=3), on_event=seen.append)
        events = [event async for event in handle]
        await executor.shutdown()
        return events, seen

    events, seen = run(main())
    assert events == seen
    assert events == [
        Queued(position=0),
        Started(backend="default", batch_size=1),
        Step("denoising", 1, 3),
        Step("denoising", 2, 3),
        Step("denoising", 3, 3),
        Decoding(),
        Done(cache_hit=False),
    ]


def test_once_the_backend_is_timed_queued_requests_learn_their_expected_wait() -> None:
    async def main() -> tuple[float | None, list[ProgressEvent], float | None]:
        gpu = CostModelBackend(one_at_a_time=True, overhead_s=0.2)
        executor, _ = make_executor({"default": gpu}, batch_overhead_s=0.0, max_batch_size=1)
        unknown = executor.expected_wait_s(spec("first"))
        first = await executor.submit(spec("first"), guild="a", user="a")
        await next_call(gpu)
        gpu.gate.set()
        await first  # the backend has been timed: about 0.2 s a call
        blocker = await executor.submit(spec("running"), guild="a", user="a")
        await next_call(gpu)
        seen: list[ProgressEvent] = []
        queued = await executor.submit(spec("waiting"), guild="b", user="b", on_event=seen.append)
        known = executor.expected_wait_s(spec("another"))
        gpu.gate.set()
        await next_call(gpu)
        gpu.gate.set()
        await asyncio.gather(blocker, queued)
        await executor.shutdown()
        return unknown, seen, known

    unknown, seen, known = run(main())
    assert unknown is None  # before the first call nothing is known about the backend's speed
    [waiting] = [event for event in seen if isinstance(event, Queued)]
    assert waiting.position == 0 and waiting.wait_s is not None
    # its own call (~0.2 s) plus what is left of the running one
    assert 0.15 <= waiting.wait_s <= 0.6
    assert known is not None and known > waiting.wait_s  # one more call ahead of it


class DictStore:
    def __init__(self) -> None:
        self.clips: dict[str, Clip] = {}

    async def get(self, key: str) -> Clip | None:
        return self.clips.get(key)

    async def put(self, key: str, clip: Clip) -> bool:
        self.clips[key] = clip
        return True


def key_fn(s: GenerationSpec) -> str:
    return json.dumps(s.to_dict(), sort_keys=True)


def test_a_cached_clip_returns_at_once_and_identical_requests_in_flight_share_one_generation() -> None:
    async def main() -> None:
        gpu = CostModelBackend(gated=True)
        store = DictStore()
        executor = InProcessExecutor(
            lambda name: gpu, ExecutorSettings(max_wait_s=0.0), store=store, key_fn=key_fn
        )
        blocker = await hold_gpu(executor, gpu)
        first = await executor.submit(spec("same"), user="u1")
        second = await executor.submit(spec("same"), Priority.BATCH, user="u2")
        gpu.gate.set()
        clips = await asyncio.gather(blocker, first, second)
        assert gpu.ran() == ["blocker", "same"]
        assert clips[1].data == clips[2].data and not clips[1].cache_hit

        hit = await executor.submit(spec("same"), user="u3")
        assert hit.done()  # answered by submit itself: the cache, never the queue
        assert (await hit).cache_hit and [e async for e in hit] == [Done(cache_hit=True)]
        counters = executor.stats().counters
        assert (counters["shared"], counters["cache_hits"]) == (1, 1)
        await executor.shutdown()

    run(main())


class GatedPutStore(DictStore):
    """Every put waits for ``release``: a slow disk or a far Redis."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.putting = asyncio.Event()

    async def put(self, key: str, clip: Clip) -> bool:
        self.putting.set()
        await self.release.wait()
        return await super().put(key, clip)


def test_a_clip_is_delivered_before_it_is_stored_and_a_request_meanwhile_shares_it() -> None:
    async def main() -> None:
        gpu = CostModelBackend()
        store = GatedPutStore()
        executor = InProcessExecutor(
            lambda name: gpu, ExecutorSettings(max_wait_s=0.0), store=store, key_fn=key_fn
        )
        first = await executor.submit(spec("same"), user="u1")
        clip = await first  # while the put still waits
        assert store.putting.is_set() and not store.clips
        again = await executor.submit(spec("same"), user="u2")
        assert again.done() and (await again).data == clip.data
        store.release.set()
        await wait_until(lambda: bool(store.clips))
        hit = await (await executor.submit(spec("same"), user="u3"))
        counters = executor.stats().counters
        await executor.shutdown()
        assert gpu.ran() == ["same"]
        assert hit.cache_hit and (counters["shared"], counters["cache_hits"]) == (1, 1)

    run(main())


def test_under_load_a_degraded_clip_made_earlier_answers_the_same_request_from_the_cache() -> None:
    async def main() -> None:
        gpu = CostModelBackend(gated=True)
        # Every call is estimated at 1 s: behind a running one a request's load is (1 + 1) / 1.5.
        settings = ExecutorSettings(max_wait_s=0.0, batch_overhead_s=1.0, seconds_per_unit=1e-9)
        executor = InProcessExecutor(lambda name: gpu, settings, store=DictStore(), key_fn=key_fn)
        big = spec("big", width=448, height=256)
        blocker = await hold_gpu(executor, gpu)
        first = await executor.submit(big, user="u1")
        assert first.degraded
        gpu.gate.set()
        await asyncio.gather(blocker, first)

        gpu.gate.clear()
        gpu.entered.clear()
        busy = await executor.submit(spec("blocker 2"), guild="ops", user="ops")
        await asyncio.to_thread(gpu.entered.wait, 5)
        again = await executor.submit(big, user="u2")
        assert again.done()  # no second render of the degraded spec
        clip = await again
        assert clip.cache_hit and clip.degraded and (clip.width, clip.height) == (320, 240)
        counters = executor.stats().counters
        assert (counters["cache_hits"], counters["degraded"]) == (1, 2)
        gpu.gate.set()
        await busy
        await executor.shutdown()
        assert gpu.ran() == ["blocker", "big", "blocker 2"]

    run(main())


def test_frames_are_inspected_before_encoding_and_may_cache_keeps_clips_out() -> None:
    inspected: list[tuple[int, ...]] = []

    def inspect(frames: np.ndarray) -> dict[str, Any]:
        inspected.append(frames.shape)
        return {"mean": float(frames.mean())}

    async def main() -> None:
        store = DictStore()
        executor = InProcessExecutor(
            lambda name: CostModelBackend(),
            store=store,
            key_fn=key_fn,
            inspect=inspect,
            may_cache=lambda clip: clip.inspection["mean"] < 0,
        )
        clip = await (await executor.submit(spec("look")))
        assert clip.inspection["mean"] > 0 and not store.clips
        await executor.shutdown()

    run(main())
    assert inspected == [(8, 128, 128, 3)]


def test_a_fallback_clip_is_never_cached_under_the_primary_key() -> None:
    async def main() -> None:
        gpu = CostModelBackend()
        gpu.broken = True
        store = DictStore()
        backends: dict[str, Any] = {"default": gpu, "sticker": StickerBackend()}
        executor = InProcessExecutor(
            lambda name: backends[name],
            ExecutorSettings(failure_threshold=1, probe_interval_s=60),
            store=store,
            key_fn=key_fn,
        )
        clip = await (await executor.submit(spec("x")))
        assert clip.backend == "sticker" and not store.clips
        await executor.shutdown()

    run(main())


def test_the_real_sticker_backend_through_the_executor_makes_a_playable_mp4() -> None:
    async def main() -> Clip:
        async with InProcessExecutor(lambda name: StickerBackend()) as executor:
            requested = GenerationSpec(prompt="a cat", caption="nope", width=320, height=240, frames=8)
            return await (await executor.submit(requested, guild="g", user="u"))

    clip = run(main())
    assert clip.format is OutputFormat.MP4 and clip.data[4:8] == b"ftyp"
    info = probe_video(clip.data, clip.format)
    assert (info.width, info.height, info.frames) == (320, 240, 8)
    assert clip.backend == "sticker" and clip.variant == "sticker-v1"
    assert clip.timings.rendering > 0 and clip.timings.encoding > 0 and not clip.degraded
