"""Faults with real processes: ``reactclip worker`` processes (the cost-model backend: a GPU's timing
without a GPU) on a real Redis, and a real client (the DistributedExecutor every bot shard runs).

The bounds: a killed worker's job starts again on another worker once its lease lapses (``lease_s``,
2 s here, plus the workers' 0.1 s queue poll); a stopped worker finishes what it holds within
``stop_grace_s``; while Redis is away a request is refused as busy at once, and one in flight ends
as busy.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from skipping import require

from reactclip.engine.cache import RedisClipStore
from reactclip.engine.executor import Alert, Busy, ExecutorSettings, QueueUnreachable, Started, WorkerLost
from reactclip.engine.executor.distributed import DistributedExecutor
from reactclip.engine.executor.distributed.protocol import Heartbeat, worker_key
from reactclip.engine.service import REDIS_MAX_ENTRY_BYTES
from reactclip.engine.spec import GenerationSpec

pytestmark = pytest.mark.slow

LEASE_S, HEARTBEAT_S = 2.0, 0.5
SCALE = 2.0
"""A small clip then takes about 2 s on a worker: long enough to be caught mid-job."""
CACHE_TTL_S = 300
CLIP_BOUND_S = 30.0
"""How long a test waits for a clip: the lease, a re-render and a loaded CI machine's slack."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class WorkerProcess:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/ready", timeout=1) as answer:
                return bool(answer.status == 200)
        except OSError:
            return False

    def metric(self, name: str) -> float:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=2) as answer:
            text = answer.read().decode()
        return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)


Spawn = Callable[..., WorkerProcess]


@pytest.fixture
def spawn_worker(tmp_path: Path) -> Iterator[Spawn]:
    """Starts ``reactclip worker`` processes and waits until each says it is ready (/ready)."""
    started: list[WorkerProcess] = []

    def spawn(redis_url: str, queue: str, *, stop_grace_s: int = 10, store: bool = False) -> WorkerProcess:
        port = free_port()
        env = {name: value for name, value in os.environ.items() if not name.startswith("REACTCLIP_")}
        env |= {
            "HOME": str(tmp_path),
            "REACTCLIP_ENGINE__BACKEND": "cost-model",
            "REACTCLIP_ENGINE__COST_MODEL__SCALE": str(SCALE),
            "REACTCLIP_ENGINE__DISTRIBUTED__LEASE_S": str(LEASE_S),
            "REACTCLIP_ENGINE__DISTRIBUTED__HEARTBEAT_S": str(HEARTBEAT_S),
            "REACTCLIP_ENGINE__DISTRIBUTED__STOP_GRACE_S": str(stop_grace_s),
            "REACTCLIP_MODERATION__FRAME_CHECK": "false",
        }
        if store:  # clips go into the shared Redis clip store, as in a deployment with shards
            env |= {
                "REACTCLIP_ENGINE__CACHE__STORE": "redis",
                "REACTCLIP_ENGINE__REDIS_URL": redis_url,
                "REACTCLIP_ENGINE__CACHE__TTL_S": str(CACHE_TTL_S),
            }
        log = tmp_path / f"worker-{len(started)}.log"
        command = [sys.executable, "-c", "from reactclip.bot.cli import main; main()"]
        args = ["--log-format", "json", "worker", "--redis-url", redis_url, "--queue", queue]
        process = subprocess.Popen(
            [*command, *args, "--metrics-port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log.open("wb"),
        )
        worker = WorkerProcess(process, port, log)
        started.append(worker)
        deadline = time.monotonic() + 60
        while not worker.ready():
            assert process.poll() is None, f"the worker exited: {log.read_text()[-2000:]}"
            assert time.monotonic() < deadline, f"the worker never got ready: {log.read_text()[-2000:]}"
            time.sleep(0.2)
        return worker

    yield spawn
    for worker in started:
        worker.stop()


def spec(n: int) -> GenerationSpec:
    return GenerationSpec(prompt=f"fault drill {n}", width=320, height=240, frames=8, steps=10)


def client(redis_url: str, queue: str, alerts: list[Alert], *, store: bool = False) -> DistributedExecutor:
    async def on_alert(alert: Alert) -> None:
        alerts.append(alert)

    return DistributedExecutor(
        redis_url,
        ExecutorSettings(),
        queue_name=queue,
        store=RedisClipStore(redis_url, CACHE_TTL_S, REDIS_MAX_ENTRY_BYTES) if store else None,
        key_fn=lambda s: f"{queue}:{s.prompt}",
        heartbeat_s=HEARTBEAT_S,
        poll_interval_s=0.2,
        on_alert=on_alert,
    )


async def holder(redis_url: str, queue: str, timeout_s: float = 20) -> int:
    """The pid of a worker holding a job, from the workers' heartbeats (``host-pid-tag``)."""
    redis = Redis.from_url(redis_url)
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            keys = [key async for key in redis.scan_iter(match=worker_key(queue, "*"))]
            for raw in await redis.mget(keys) if keys else []:
                beat = Heartbeat.decode(raw)
                if beat is not None and beat.jobs > 0:
                    return int(beat.worker.rsplit("-", 2)[1])
            await asyncio.sleep(0.1)
    finally:
        await redis.aclose()
    raise AssertionError("no worker took a job")


async def until(condition: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def test_a_worker_killed_mid_job_loses_nothing_and_is_reported(redis_url: str, spawn_worker: Spawn) -> None:
    queue = f"test:faults:{uuid.uuid4().hex[:8]}"
    for _ in range(2):
        spawn_worker(redis_url, queue)
    alerts: list[Alert] = []
    killed: list[int] = []

    async def scenario() -> None:
        async with client(redis_url, queue, alerts) as executor:
            starts: dict[int, int] = {}
            handles = []
            for n in range(3):
                starts[n] = 0

                def count(event: Any, n: int = n) -> None:
                    starts[n] += isinstance(event, Started)

                handles.append(await executor.submit(spec(n), user=f"user{n}", on_event=count))
            victim = await holder(redis_url, queue)
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)
            killed_at = time.monotonic()
            clips = await asyncio.wait_for(asyncio.gather(*handles), CLIP_BOUND_S)
            recovered_s = time.monotonic() - killed_at
            # Every requester has its one clip, each of its own request; the killed job ran twice.
            assert [clip.spec.prompt for clip in clips] == [spec(n).prompt for n in range(3)]
            assert sum(starts.values()) == 4 and max(starts.values()) == 2
            assert recovered_s < CLIP_BOUND_S
            await until(lambda: any(isinstance(alert, WorkerLost) for alert in alerts), 10)

    asyncio.run(scenario())
    [lost] = [alert for alert in alerts if isinstance(alert, WorkerLost)]
    assert lost.worker.rsplit("-", 2)[1] == str(killed[0])


def test_a_stopped_worker_finishes_its_job_takes_no_new_one_and_exits(
    redis_url: str, spawn_worker: Spawn
) -> None:
    queue = f"test:faults:{uuid.uuid4().hex[:8]}"
    first = spawn_worker(redis_url, queue, stop_grace_s=20)
    alerts: list[Alert] = []

    async def scenario() -> None:
        async with client(redis_url, queue, alerts) as executor:
            held = await executor.submit(spec(1))
            assert await holder(redis_url, queue) == first.process.pid
            first.process.send_signal(signal.SIGTERM)
            later = await executor.submit(spec(2))  # queued after the stop: never taken by the leaver
            clip = await asyncio.wait_for(held, CLIP_BOUND_S)
            assert clip.spec.prompt == spec(1).prompt
            assert await asyncio.to_thread(first.process.wait, CLIP_BOUND_S) == 0
            # The worker's JSON log names the request the client sent (the id crosses the queue).
            lines = [json.loads(line) for line in first.log.read_text().splitlines() if line.startswith("{")]
            assert any(line.get("request_id") == held.id and "clip by" in line["message"] for line in lines)
            assert not later.done()
            await asyncio.to_thread(spawn_worker, redis_url, queue)  # nothing lost: the next one serves it
            assert (await asyncio.wait_for(later, CLIP_BOUND_S)).spec.prompt == spec(2).prompt
            await asyncio.sleep(HEARTBEAT_S * 4)  # past the leaver's last heartbeat

    asyncio.run(scenario())
    assert not any(isinstance(alert, WorkerLost) for alert in alerts)  # it said goodbye


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    """A Redis server of this test's own (the shared one must not be restarted): a function that
    starts it on one fixed port, again after a stop."""
    binary = shutil.which("redis-server")
    require(
        None if binary else "redis-server is not installed",
        "REACTCLIP_REQUIRE_REDIS",
        "apt-get install redis-server",
    )
    assert binary is not None
    port = free_port()
    servers: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        server = subprocess.Popen(
            [binary, "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
            stdout=subprocess.DEVNULL,
        )
        servers.append(server)
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    start.port = port  # type: ignore[attr-defined]
    yield start
    for server in servers:
        server.terminate()
        server.wait(10)


def test_while_redis_restarts_requests_are_refused_as_busy_and_everyone_reconnects(
    own_redis: Any, spawn_worker: Spawn
) -> None:
    server = own_redis()
    redis_url = f"redis://127.0.0.1:{own_redis.port}/0"
    queue = f"test:faults:{uuid.uuid4().hex[:8]}"
    spawn_worker(redis_url, queue)
    alerts: list[Alert] = []

    async def scenario() -> None:
        async with client(redis_url, queue, alerts) as executor:
            in_flight = await executor.submit(spec(1))
            await holder(redis_url, queue)
            server.terminate()
            await asyncio.to_thread(server.wait, 10)
            # The request in flight ends, politely, in bounded time; a new one is turned away at once.
            with pytest.raises(Busy):
                await asyncio.wait_for(in_flight, CLIP_BOUND_S)
            began = time.monotonic()
            with pytest.raises(Busy):
                await executor.submit(spec(2))
            assert time.monotonic() - began < 5
            await until(lambda: any(isinstance(alert, QueueUnreachable) for alert in alerts), 10)

            own_redis()  # back, empty
            deadline = time.monotonic() + CLIP_BOUND_S
            while True:  # the client and the worker reconnect by themselves
                try:
                    handle = await executor.submit(spec(3))
                    break
                except Busy:
                    assert time.monotonic() < deadline
                    await asyncio.sleep(0.2)
            assert (await asyncio.wait_for(handle, CLIP_BOUND_S)).spec.prompt == spec(3).prompt

    asyncio.run(scenario())
    assert sum(isinstance(alert, QueueUnreachable) for alert in alerts) == 1  # once per outage


DEAD_SHARD = textwrap.dedent(
    """
    import asyncio, os, sys
    from reactclip.engine.cache import RedisClipStore
    from reactclip.engine.executor.distributed import DistributedExecutor
    from reactclip.engine.service import REDIS_MAX_ENTRY_BYTES
    from reactclip.engine.spec import GenerationSpec

    async def main():
        url, queue = sys.argv[1], sys.argv[2]
        executor = DistributedExecutor(
            url,
            queue_name=queue,
            store=RedisClipStore(url, 300, REDIS_MAX_ENTRY_BYTES),
            key_fn=lambda s: f"{queue}:{s.prompt}",
        )
        for n in (1, 2):
            await executor.submit(GenerationSpec(prompt=f"fault drill {n}", width=320, height=240,
                                                 frames=8, steps=10))
        os._exit(0)  # the bot process dies with its requests queued

    asyncio.run(main())
    """
)


def test_jobs_of_a_bot_that_died_are_rendered_once_and_never_posted_by_its_successor(
    redis_url: str, spawn_worker: Spawn
) -> None:
    queue = f"test:faults:{uuid.uuid4().hex[:8]}"
    worker = spawn_worker(redis_url, queue, store=True)
    subprocess.run([sys.executable, "-c", DEAD_SHARD, redis_url, queue], check=True, timeout=60)
    alerts: list[Alert] = []

    async def scenario() -> None:
        async with client(redis_url, queue, alerts, store=True) as successor:
            await until(lambda: worker.metric("reactclip_render_seconds_count") >= 2, CLIP_BOUND_S)
            assert successor.stats().running == 0  # nothing of the dead process's comes here
            again = await successor.submit(spec(1))  # the same person asks again
            assert (await asyncio.wait_for(again, CLIP_BOUND_S)).spec.prompt == spec(1).prompt

    asyncio.run(scenario())
    assert worker.metric("reactclip_render_seconds_count") == 2  # the second ask was not rendered again
