"""Scale-out on one machine: the distributed executor with 1, 2 and 4 ``reactclip worker`` processes
against the in-process executor, on the same seeded arrival trace as bench/executor.py.

Each worker is a real ``reactclip worker --backend cost-model`` process: one simulated GPU that
sleeps ``scale x (1 s + 2 s per clip)`` a call (the field report's 3 s for one clip and 9 s for a
batch of four), so a 2-core machine holds four of them. The client is a DistributedExecutor with the
shared Redis clip store, submitting bench/executor.py's trace (Poisson arrivals, 30% interactive, 30%
hot prompts, the 5x burst from 40% to 50% of the window). The trace is the same for every phase: its
base rate is 75% of one GPU's single-clip rate, so more workers should cut latency (the burst's
backlog) and hold throughput (nothing lost, no longer a drain). With the defaults it is the trace
``python bench/executor.py --scale 0.1`` replays. A full run takes about four minutes.

Phases, one after another: the in-process executor (the baseline, as bench/executor.py runs it);
1, 2 and 4 workers; 4 workers with one SIGKILLed at the start of the burst. Workers start (and
report ready) before a phase's clock; each phase has its own queue and cache keys, deleted after it.

    python bench/scale.py                       # writes the "## Scale-out" section of docs/perf.md
    python bench/scale.py --duration 10 --no-write
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Awaitable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import redis.asyncio as redis
from _report import PERF_DOC, machine_description, markdown_table, provenance, publish, ratio, seconds
from arq.constants import in_progress_key_prefix
from executor import (
    BASE_LOAD,
    BURST_FACTOR,
    BURST_WINDOW,
    PACKAGES,
    REFERENCE_SPEC,
    CostModelBackend,
    Request,
    Summary,
    make_trace,
    percentile,
    replay,
    run_executor,
    scaled_settings,
    show,
    sleep_until,
)
from redis import Redis as SyncRedis
from redis.exceptions import RedisError

from reactclip.engine.cache import RedisClipStore, cache_key
from reactclip.engine.clip import Clip
from reactclip.engine.executor import Alert, GenerationFailed, Priority, WorkerLost
from reactclip.engine.executor.distributed import DistributedExecutor
from reactclip.engine.executor.handle import ClipHandle
from reactclip.engine.service import REDIS_MAX_ENTRY_BYTES
from reactclip.engine.settings import DistributedSettings
from reactclip.engine.spec import GenerationSpec

SECTION = "## Scale-out"
VARIANT = "cost-model-v1"
"""What the workers' backend names its clips (``CostModelBackend.variant``), for the cache keys."""
CACHE_TTL_S = 900
"""The phase's clips outlive it by at most this, should the clean-up fail."""
READY_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 15.0
STOP_GRACE_S = 5
ARQ_POLL_S = DistributedSettings().poll_s
"""How often a free worker looks at the queue (``DistributedSettings.poll_s``, arq's poll_delay)."""


# The workers.


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def _get(self, path: str) -> str | None:
        """The body of one of its monitoring pages, or None (not up, or not ready: 503)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=1) as answer:
                return str(answer.read().decode())
        except OSError:
            return None

    def ready(self) -> bool:
        return self._get("/ready") is not None

    def held(self) -> int:
        """Jobs on its executor (queued or on the GPU), from /metrics; 0 when it does not answer."""
        names = ("reactclip_queue_depth", "reactclip_jobs_running")
        lines = (self._get("/metrics") or "").splitlines()
        return int(sum(float(line.split()[-1]) for line in lines if line.startswith(names)))

    def alive(self) -> bool:
        """Running (checked without reaping it, so its group id stays its own)."""
        if self.process.returncode is not None:
            return False
        return os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None

    def signal_group(self, signum: int) -> None:
        """Signal the worker and whatever it started (its ffmpeg encoders): its own session."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)

    def stop(self) -> None:
        """SIGTERM (arq's graceful stop), SIGKILL after STOP_TIMEOUT_S, then the whole group, so no
        encoder outlives its worker. The worker is waited for without being reaped until its group
        is killed, so the group id is still its own then."""
        if self.process.returncode is not None:
            return  # reaped already: stopped, or killed with its group
        self.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.signal_group(signal.SIGKILL)
        self.process.wait(10)

    def tail(self, limit: int = 2000) -> str:
        try:
            return self.log.read_text(errors="replace")[-limit:]
        except OSError:
            return ""


STARTED: list[Worker] = []
"""Every worker this run started, for the last-resort clean-up in ``main``."""


@dataclass(frozen=True)
class WorkerConfig:
    redis_url: str
    scale: float
    concurrency: int
    lease_s: float
    heartbeat_s: float
    home: Path

    def environment(self) -> dict[str, str]:
        """The worker's settings: cost model at the scale, clips into the shared Redis store, the
        executor settings scaled as the baseline's, the fault drills' lease and heartbeat, no frame
        moderation (the baseline has none either). The caller's REACTCLIP_* settings are left out."""
        env = {name: value for name, value in os.environ.items() if not name.startswith("REACTCLIP_")}
        env |= {
            "HOME": str(self.home),
            "REACTCLIP_ENGINE__BACKEND": "cost-model",
            "REACTCLIP_ENGINE__COST_MODEL__SCALE": repr(self.scale),
            "REACTCLIP_ENGINE__REDIS_URL": self.redis_url,
            "REACTCLIP_ENGINE__CACHE__STORE": "redis",
            "REACTCLIP_ENGINE__CACHE__TTL_S": str(CACHE_TTL_S),
            "REACTCLIP_ENGINE__DISTRIBUTED__LEASE_S": repr(self.lease_s),
            "REACTCLIP_ENGINE__DISTRIBUTED__HEARTBEAT_S": repr(self.heartbeat_s),
            "REACTCLIP_ENGINE__DISTRIBUTED__STOP_GRACE_S": str(STOP_GRACE_S),
            "REACTCLIP_MODERATION__FRAME_CHECK": "false",
        }
        for name, value in scaled_settings(self.scale).model_dump(exclude_defaults=True).items():
            env[f"REACTCLIP_ENGINE__EXECUTOR__{name.upper()}"] = repr(value)
        return env


def start_workers(config: WorkerConfig, queue: str, count: int, workers: list[Worker]) -> None:
    """Start ``count`` workers at once into ``workers`` and wait until every one answers /ready."""
    command = [sys.executable, "-c", "from reactclip.bot.cli import main; main()"]
    for _ in range(count):
        port = free_port()
        log = config.home / f"worker-{len(STARTED)}.log"
        args = ["--log-format", "json", "worker", "--backend", "cost-model", "--redis-url", config.redis_url]
        args += ["--queue", queue, "--concurrency", str(config.concurrency), "--metrics-port", str(port)]
        with log.open("wb") as stderr:
            process = subprocess.Popen(
                [*command, *args],
                env=config.environment(),
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,  # Ctrl-C reaches only us; we stop them, group and all
            )
        worker = Worker(process, port, log)
        STARTED.append(worker)
        workers.append(worker)
    deadline = time.monotonic() + READY_TIMEOUT_S
    for worker in workers:
        while not worker.ready():
            if not worker.alive():
                raise RuntimeError(f"a worker exited while starting:\n{worker.tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"a worker was not ready within {READY_TIMEOUT_S:.0f} s:\n{worker.tail()}")
            time.sleep(0.2)


def stop_workers(workers: Sequence[Worker]) -> None:
    for worker in workers:
        if worker.process.returncode is None:
            worker.signal_group(signal.SIGTERM)  # all at once, then wait for each
    for worker in workers:
        worker.stop()


@contextlib.contextmanager
def running_workers(config: WorkerConfig, queue: str, count: int) -> Iterator[list[Worker]]:
    workers: list[Worker] = []
    try:
        start_workers(config, queue, count, workers)
        yield workers
    finally:
        stop_workers(workers)


# Submitting with a deadline.


class Deadline:
    """The client seen through ``submit``, with every clip due by ``at`` (monotonic): one not
    delivered by then is given up (GenerationFailed) and counts as lost, so a stuck phase ends."""

    def __init__(self, executor: DistributedExecutor, at: float) -> None:
        self.executor = executor
        self.at = at

    async def submit(self, spec: GenerationSpec, priority: Priority, **kwargs: str) -> Awaitable[Clip]:
        return self._wait(await self.executor.submit(spec, priority, **kwargs))

    async def _wait(self, handle: ClipHandle) -> Clip:
        try:
            return await asyncio.wait_for(handle.result(), max(self.at - time.monotonic(), 0.0))
        except TimeoutError:
            handle.cancel()
            raise GenerationFailed("no clip by the phase's deadline") from None


# The kill.


@dataclass
class Kill:
    at: float
    """Monotonic time of the SIGKILL."""
    offset_s: float
    """Seconds after the phase's first arrival."""
    pid: int
    metrics_jobs: int
    """Jobs its /metrics said it held (queued on its executor, or on its GPU) just before."""
    """Jobs the victim's last heartbeat said it held."""
    jobs: list[str]
    """The arq job ids it held: their lease stopped being renewed."""
    alert_s: float | None = None
    """Kill to the client's WorkerLost alert."""


async def in_progress(client: redis.Redis, queue: str) -> list[str]:
    """The job ids of this queue that some worker holds (arq's in-progress keys)."""
    pattern = f"{in_progress_key_prefix}{queue}:*"
    return [key.decode()[len(in_progress_key_prefix) :] async for key in client.scan_iter(match=pattern)]


async def leases(client: redis.Redis, jobs: Sequence[str]) -> list[int]:
    async with client.pipeline(transaction=False) as pipe:
        for job in jobs:
            pipe.pttl(in_progress_key_prefix + job)
        return [int(ttl) for ttl in await pipe.execute()]


async def kill_one(
    client: redis.Redis, queue: str, workers: Sequence[Worker], lease_s: float, t0: float, within_s: float
) -> Kill:
    """SIGKILL the worker holding the most jobs (its own executor's queue and GPU, from its
    /metrics; waiting up to ``within_s`` for one to hold any), and find which jobs it held: a live
    worker renews its jobs' leases every lease_s / 3, the dead one's only run down. Two readings
    lease_s / 2 apart tell them apart (a renewal adds at least lease_s / 6 in between)."""
    alive = [worker for worker in workers if worker.alive()]
    give_up = time.monotonic() + within_s
    while True:
        held = await asyncio.gather(*[asyncio.to_thread(worker.held) for worker in alive])
        if max(held) > 0 or time.monotonic() > give_up:
            break
        await asyncio.sleep(0.05)
    victim, victim_held = max(zip(alive, held, strict=True), key=lambda pair: pair[1])
    jobs = await in_progress(client, queue)
    victim.signal_group(signal.SIGKILL)
    killed_at = time.monotonic()
    first = await leases(client, jobs)
    first_at = time.monotonic()
    await asyncio.sleep(lease_s / 2)
    second = await leases(client, jobs)
    elapsed_ms = (time.monotonic() - first_at) * 1000
    tolerance_ms = lease_s * 1000 / 12
    dead = [
        job
        for job, a, b in zip(jobs, first, second, strict=True)
        if a > 0 and b > 0 and b < a - elapsed_ms + tolerance_ms
    ]
    return Kill(killed_at, killed_at - t0, victim.pid, victim_held, dead)


# The phases.


@dataclass
class Phase:
    name: str
    workers: int
    """0 for the in-process executor."""
    summary: Summary
    kill: Kill | None = None
    recovered_s: float | None = None
    """Kill to the last delivery of a job the killed worker held."""
    victim_requests: int = 0
    """Requests waiting for the jobs the killed worker held."""
    startup_s: float = 0.0
    alerts: list[tuple[float, Alert]] = field(default_factory=list)

    @property
    def busy(self) -> int:
        return sum(o.busy for o in self.summary.outcomes)

    @property
    def delivered(self) -> int:
        return len(self.summary.completed)

    @property
    def lost(self) -> int:
        return len(self.summary.outcomes) - self.delivered - self.busy

    @property
    def errors(self) -> list[str]:
        return sorted({o.error for o in self.summary.outcomes if o.error})


def job_of(queue: str, spec: GenerationSpec) -> tuple[str, str]:
    """(cache key, arq job id) of a spec on ``queue``: the client's key_fn and its job naming."""
    key = f"{queue}:{cache_key(spec, VARIANT, None)}"
    return key, f"{queue}:{key}"


def forget_queue(redis_url: str, queue: str) -> None:
    """Delete what a phase left in the shared Redis: every key naming its queue (queue, jobs,
    results, heartbeats, the renderer, the cached clips). Nothing else is touched. Synchronous, so
    that a Ctrl-C cancelling the event loop cannot cut it short."""
    client = SyncRedis.from_url(redis_url)
    try:
        batch: list[bytes] = []
        for key in client.scan_iter(match=f"*{queue}*", count=1000):
            batch.append(key)
            if len(batch) >= 500:
                client.unlink(*batch)
                batch.clear()
        if batch:
            client.unlink(*batch)
    finally:
        client.close()


QUEUES: list[str] = []
"""Every queue this run used, swept again at the end in case a phase's own clean-up was cut short."""


async def run_distributed(
    args: argparse.Namespace, config: WorkerConfig, trace: Sequence[Request], count: int, kill: bool
) -> Phase:
    name = f"{count} worker{'s' if count > 1 else ''}" + (", one killed" if kill else "")
    queue = f"bench:scale:{uuid.uuid4().hex[:10]}:{count}{'k' if kill else ''}"
    QUEUES.append(queue)
    client = redis.Redis.from_url(args.redis_url)
    store = RedisClipStore(args.redis_url, CACHE_TTL_S, REDIS_MAX_ENTRY_BYTES)
    alerts: list[tuple[float, Alert]] = []

    async def on_alert(alert: Alert) -> None:
        alerts.append((time.monotonic(), alert))

    try:
        began = time.monotonic()
        with running_workers(config, queue, count) as workers:
            startup_s = time.monotonic() - began
            print(f"  {name}: workers ready in {startup_s:.1f} s", flush=True)
            executor = DistributedExecutor(
                args.redis_url,
                scaled_settings(args.scale),
                queue_name=queue,
                store=store,
                key_fn=lambda spec: job_of(queue, spec)[0],
                heartbeat_s=args.heartbeat,
                on_alert=on_alert,
            )
            async with executor:
                t0 = time.monotonic()
                deadline = Deadline(executor, t0 + trace[-1].at + args.drain_limit)
                killer = None
                if kill:
                    burst = (args.duration * BURST_WINDOW[0], args.duration * BURST_WINDOW[1])
                    killer = asyncio.create_task(_kill_at(client, queue, workers, args.lease, t0, burst))
                try:
                    # replay() takes anything with submit(); the backend only names GPU spans, none here.
                    outcomes = await replay(trace, deadline, CostModelBackend(args.scale))  # type: ignore[arg-type]
                    killed = await killer if killer is not None else None
                finally:
                    if killer is not None and not killer.done():
                        killer.cancel()
        phase = Phase(name, count, Summary(name, outcomes, []), killed, startup_s=startup_s, alerts=alerts)
        if killed is not None:
            lost = [at - killed.at for at, alert in alerts if isinstance(alert, WorkerLost)]
            killed.alert_s = min(lost) if lost else None
            held = set(killed.jobs)
            done = [o.done for o in outcomes if job_of(queue, o.request.spec)[1] in held]
            phase.victim_requests = len(done)
            if done and all(at is not None for at in done):
                phase.recovered_s = max(at for at in done if at is not None) - killed.at
        return phase
    finally:
        with contextlib.suppress(RedisError, OSError):
            forget_queue(args.redis_url, queue)
        await store.close()
        await client.aclose()


async def _kill_at(
    client: redis.Redis,
    queue: str,
    workers: Sequence[Worker],
    lease_s: float,
    t0: float,
    burst: tuple[float, float],
) -> Kill:
    """At the burst's start, or as soon after it (within half the burst) as a worker holds a job."""
    await sleep_until(t0 + burst[0])
    return await kill_one(client, queue, workers, lease_s, t0, (burst[1] - burst[0]) / 2)


async def run(args: argparse.Namespace) -> tuple[list[Request], float, list[Phase]]:
    backend = CostModelBackend(args.scale)
    base_rate = BASE_LOAD / backend.cost([REFERENCE_SPEC])  # as bench/executor.py sets it
    trace = make_trace(args.duration, base_rate, args.seed)
    print(f"{len(trace)} requests over {args.duration:.0f} s; in-process executor first", flush=True)
    phases = []
    with tempfile.TemporaryDirectory(prefix="reactclip-scale-") as tmp:
        root = Path(tmp)
        outcomes, counters = await run_executor(trace, backend, args.scale, root)
        baseline = Phase(
            "in-process executor", 0, Summary("in-process", outcomes, list(backend.calls), counters)
        )
        phases.append(baseline)
        print(f"  in-process: makespan {baseline.summary.makespan:.1f} s", flush=True)
        config = WorkerConfig(args.redis_url, args.scale, args.concurrency, args.lease, args.heartbeat, root)
        plan = [(count, False) for count in args.workers]
        if not args.no_kill:
            plan.append((max(args.workers), True))
        for count, kill in plan:
            phase = await run_distributed(args, config, trace, count, kill)
            phases.append(phase)
            print(
                f"  {phase.name}: makespan {phase.summary.makespan:.1f} s, lost {phase.lost}, "
                f"busy {phase.busy}",
                flush=True,
            )
    return trace, base_rate, phases


# The report.


def cell(value: float, reference: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{show(value)} ({ratio(value, reference)})" if not math.isnan(reference) else show(value)


def table(phases: Sequence[Phase]) -> str:
    base = phases[0].summary

    def p(summary: Summary, priority: Priority, q: float) -> float:
        return percentile(summary.latencies(priority), q)

    rows = []
    for phase in phases:
        s = phase.summary
        rows.append(
            [
                phase.name,
                f"{phase.workers} → {phase.workers - 1}" if phase.kill else str(phase.workers or 1),
                f"{phase.delivered} / {len(s.outcomes)}",
                str(phase.busy),
                str(phase.lost),
                f"{s.throughput:.2f}/s ({ratio(s.throughput, base.throughput)})",
                cell(p(s, Priority.INTERACTIVE, 95), p(base, Priority.INTERACTIVE, 95)),
                cell(p(s, Priority.INTERACTIVE, 99), p(base, Priority.INTERACTIVE, 99)),
                cell(p(s, Priority.BATCH, 95), p(base, Priority.BATCH, 95)),
                cell(
                    percentile(s.latencies(Priority.BATCH, lambda o: o.request.in_burst), 95),
                    percentile(base.latencies(Priority.BATCH, lambda o: o.request.in_burst), 95),
                ),
                seconds(s.makespan),
            ]
        )
    headers = [
        "System",
        "GPUs",
        "Delivered / submitted",
        "Busy",
        "Lost",
        "Throughput (x in-process)",
        "Interactive p95 (x)",
        "Interactive p99 (x)",
        "Batch p95 (x)",
        "Batch p95, burst arrivals (x)",
        "Makespan",
    ]
    return markdown_table(headers, rows)


def kill_lines(phase: Phase, lease_s: float, burst: tuple[float, float]) -> list[str]:
    kill = phase.kill
    if kill is None:
        return []
    jobs = len(kill.jobs)
    alert = "never" if kill.alert_s is None else f"{seconds(kill.alert_s)} after the kill"
    lines = [
        f"**Kill row**: at {kill.offset_s:.1f} s (the burst runs from {burst[0]:.0f} s to "
        f"{burst[1]:.0f} s) the worker holding the most jobs ({kill.metrics_jobs} on its executor by "
        f"its /metrics) was SIGKILLed with its encoders. It held {jobs} arq job"
        f"{'s' if jobs != 1 else ''} (told apart from the live workers' by their leases, which "
        f"stopped being renewed), waited for by {phase.victim_requests} request"
        f"{'s' if phase.victim_requests != 1 else ''}."
    ]
    if phase.recovered_s is not None:
        lines[0] += (
            " **Every one was delivered by the other workers within "
            f"{seconds(phase.recovered_s)} of the kill** (the {seconds(lease_s)} lease running out, "
            "the next poll, a new render and encode)."
        )
    elif jobs:
        lines[0] += " Not all of them were delivered (see Lost)."
    lines[0] += f" The client's WorkerLost alert came {alert}."
    return lines


def section(
    args: argparse.Namespace,
    machine: str,
    trace: Sequence[Request],
    base_rate: float,
    phases: Sequence[Phase],
) -> str:
    backend = CostModelBackend(args.scale)
    one, four = backend.cost([REFERENCE_SPEC]), backend.cost([REFERENCE_SPEC] * 4)
    interactive = sum(q.priority is Priority.INTERACTIVE for q in trace)
    burst_start, burst_end = (args.duration * f for f in BURST_WINDOW)
    in_burst = sum(q.in_burst for q in trace)
    baseline = phases[0].summary
    degraded = baseline.counters.get("degraded", 0)
    startups = [phase.startup_s for phase in phases if phase.workers]
    problems = [
        f"- {phase.name}: {phase.lost} lost; errors: {'; '.join(phase.errors) or 'none'}"
        for phase in phases
        if phase.lost
    ]
    lines = [
        provenance(machine, (*PACKAGES, "arq")),
        "",
        f"Scale {args.scale}: one clip's GPU call takes {show(one)}, a batch of four {show(four)} "
        f"(the field report's 3 s and 9 s x {args.scale}). The trace is bench/executor.py's "
        f"(seed {args.seed}): {len(trace)} requests over {args.duration:.0f} s, {interactive} "
        f"interactive, base rate {base_rate:.2f}/s ({BASE_LOAD:.0%} of one GPU's single-clip rate), "
        f"{BURST_FACTOR:.0f}x from {burst_start:.0f} s to {burst_end:.0f} s ({in_burst} arrivals). "
        "**The trace is the same for every row**, set against one GPU: more workers should cut the "
        "latency the burst's backlog causes and hold throughput (it is bounded by the arrivals), "
        "so a throughput ratio near 1.00x with nothing lost and latency ratios below 1 are the "
        "scale-out win.",
        "",
        "Each worker is one `reactclip worker --backend cost-model --concurrency "
        f"{args.concurrency}` process, i.e. one simulated GPU: N workers on this machine simulate N "
        "GPUs. The cost model sleeps instead of computing, so this machine's "
        f"{os.cpu_count()} cores hold {max(args.workers)} sleeping workers; only the encodes "
        "(ffmpeg, real, small frames), Redis and the Python around them use CPU. Workers run the "
        "executor settings the baseline runs (every duration x the scale), up to "
        f"{args.concurrency} jobs at once (batched when compatible), with the fault drills' lease "
        f"({seconds(args.lease)}) and heartbeat ({seconds(args.heartbeat)}); arq's queue poll "
        f"({seconds(ARQ_POLL_S)}, not scaled) adds up to that to each job's pickup: "
        f"{ARQ_POLL_S / one:.2g}x a clip's GPU time at this scale, "
        f"{ARQ_POLL_S / (one / args.scale):.2g}x at full scale. The "
        "client is a DistributedExecutor with the shared Redis clip store (the baseline has the "
        "local store), so hot prompts hit in both; the in-process executor degrades interactive "
        f"clips under load ({degraded} here), the distributed one never does. Workers start "
        f"(ready in {min(startups, default=0):.1f}-{max(startups, default=0):.1f} s) before a "
        "row's clock.",
        "",
        "Latency is end to end (submit to the clip in the client's hand); throughput is clips "
        "delivered over the makespan (first arrival to last clip); **lost** = submitted - delivered "
        "- refused as Busy (Busy is the executor saying no, counted apart). Ratios are against the "
        "in-process row of this run (below 1 = faster for latency). Percentiles are nearest-rank: "
        f"with {interactive} interactive requests, p99 is the slowest one.",
        "",
        table(phases),
        "",
        *kill_lines(
            next((p for p in phases if p.kill is not None), phases[0]), args.lease, (burst_start, burst_end)
        ),
    ]
    lines += [
        "",
        "What sets the distributed rows apart, by construction rather than by this run: a free "
        f"worker picks jobs up at its next queue poll (0 to {seconds(ARQ_POLL_S)} later), which is "
        "the floor under their interactive latency at this scale however many workers there are; "
        f"a worker whose {args.concurrency} arq slots are all held by a batch takes no interactive "
        "job until they free, where the in-process executor preempts the batch instead; and a "
        "killed worker's jobs wait out its lease before another worker takes them.",
    ]
    if problems:
        lines += ["", "Lost requests:", "", *problems]
    return "\n".join(lines).rstrip("\n")


def positive_ints(text: str) -> list[int]:
    values = [int(part) for part in text.split(",") if part.strip()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("a comma-separated list of worker counts, each at least 1")
    return values


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=50.0, help="seconds of arrivals (default 50)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the arrival trace (default 7)")
    parser.add_argument(
        "--scale", type=float, default=0.1, help="GPU seconds x this (default 0.1: one clip 300 ms)"
    )
    parser.add_argument(
        "--workers", type=positive_ints, default=[1, 2, 4], help="worker counts (default 1,2,4)"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=4,
        help="jobs each worker takes at once (default 4: the executor's max_batch, as the README runs it)",
    )
    parser.add_argument("--lease", type=float, default=2.0, help="workers' lease_s (default 2)")
    parser.add_argument("--heartbeat", type=float, default=0.5, help="workers' heartbeat_s (default 0.5)")
    parser.add_argument(
        "--drain-limit",
        type=float,
        default=60.0,
        help="seconds after the last arrival a clip may take (default 60)",
    )
    parser.add_argument("--no-kill", action="store_true", help="leave out the row with a worker killed")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0", help="the queue's Redis")
    parser.add_argument("--out", type=Path, default=PERF_DOC, help="markdown file to update")
    parser.add_argument("--no-write", action="store_true", help="print the section, leave --out alone")
    args = parser.parse_args()
    if min(args.duration, args.scale, args.lease, args.heartbeat, args.drain_limit, args.concurrency) <= 0:
        parser.error(
            "--duration, --scale, --lease, --heartbeat, --drain-limit and --concurrency must be positive"
        )

    machine = machine_description()  # before the work, so the load average is the background's
    # SIGTERM ends the run like Ctrl-C: through the finally blocks that stop the workers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    try:
        trace, base_rate, phases = asyncio.run(run(args))
    finally:
        stop_workers(STARTED)  # any a phase did not stop (it stops its own, even on failure)
        for queue in QUEUES:
            with contextlib.suppress(RedisError, OSError):
                forget_queue(args.redis_url, queue)
    publish(SECTION, section(args, machine, trace, base_rate, phases), None if args.no_write else args.out)


if __name__ == "__main__":
    main()
