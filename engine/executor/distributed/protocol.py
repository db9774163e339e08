"""What the distributed executor's clients (bot shards) and workers (GPU hosts) agree on: the job
function's name, the queue's layout, the job's request and result, and the progress channel.

Priority lives in one arq queue. arq keeps a queue as a sorted set scored by the time a job may
start, and every worker takes the lowest score first. An interactive job is enqueued as if it had
been due ``INTERACTIVE_HEADSTART`` ago, so it sorts before every batch job (which expire long before
that) while interactive jobs keep their FIFO order among themselves. Any number of plain arq
workers then serve interactive work first without polling two queues or claiming a batch job they
cannot start yet.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NotRequired, TypedDict

from arq.connections import ArqRedis
from arq.utils import timestamp_ms

from reactclip.engine.executor.events import Decoding, ProgressEvent, Queued, Started, Step
from reactclip.engine.executor.queue import Priority

DEFAULT_QUEUE = "reactclip:jobs"
JOB_FUNCTION = "render_clip"

INTERACTIVE_HEADSTART = timedelta(days=365)
"""How far in the past an interactive job is scored; far more than any job lives."""
EXPIRES = {Priority.INTERACTIVE: timedelta(minutes=15), Priority.BATCH: timedelta(days=1)}
"""A job not started by then is dropped: an interactive answer is useless after Discord's 15-minute
interaction token; batch work can wait a day."""
KEEP_RESULT = timedelta(minutes=5)
"""How long a finished job's result stays for the clients following it."""


class ClipRequest(TypedDict):
    """A job's one argument."""

    spec: dict[str, Any]
    """``GenerationSpec.to_dict()``."""
    priority: str
    """A ``Priority`` value; the worker's own queue serves it with that priority too."""
    guild: str
    user: str
    key: str | None
    """The cache key the worker stores the clip under; None = do not cache."""
    inline: bool
    """Return the clip's bytes in the result even when the clip was stored."""
    request_id: NotRequired[str]
    """The requester's request id (request_id.py), so the worker's log lines name it too."""


class ClipResult(TypedDict):
    """A job's return value: the clip record's metadata, and its bytes unless they are in the store."""

    meta: bytes
    data: bytes | None


def due_at(priority: Priority) -> datetime | None:
    """arq's ``_defer_until`` for a job: in the past for interactive work, None (now) for batch."""
    if priority is Priority.INTERACTIVE:
        return datetime.now(UTC) - INTERACTIVE_HEADSTART
    return None


async def queue_lengths(redis: ArqRedis, queue_name: str) -> dict[Priority, int]:
    """Jobs in the queue per priority, the running ones included (arq removes a job at its end)."""
    boundary = timestamp_ms() - int(INTERACTIVE_HEADSTART.total_seconds() * 1000) // 2
    async with redis.pipeline(transaction=False) as pipe:
        pipe.zcount(queue_name, "-inf", boundary)
        pipe.zcount(queue_name, f"({boundary}", "+inf")
        interactive, batch = await pipe.execute()
    return {Priority.INTERACTIVE: int(interactive), Priority.BATCH: int(batch)}


def events_channel(queue_name: str, job_id: str) -> str:
    return f"{queue_name}:events:{job_id}"


def renderer_key(queue_name: str) -> str:
    """Where workers say what renders this queue's jobs (``Renderer``): the clients' cache keys
    name it, so a bot shard never keys clips by what its own machine could run."""
    return f"{queue_name}:renderer"


@dataclass(frozen=True)
class Renderer:
    """What a queue's workers render with: the backend (``auto`` resolved on the GPU host) and its
    weights revision."""

    backend: str
    revision: str | None = None

    def encode(self) -> str:
        return json.dumps({"backend": self.backend, "revision": self.revision})

    @classmethod
    def decode(cls, data: bytes | str | None) -> Renderer | None:
        """None when nothing (or something unreadable) was published."""
        if data is None:
            return None
        try:
            document = json.loads(data)
            return cls(str(document["backend"]), document.get("revision"))
        except (TypeError, KeyError, ValueError):
            return None


HEARTBEATS_MISSED = 3
"""A worker silent for this many heartbeats is lost: its heartbeat key expires then."""


def worker_key(queue_name: str, worker_id: str) -> str:
    """A worker's heartbeat (``Heartbeat``), expiring unless renewed."""
    return f"{queue_name}:worker:{worker_id}"


def gone_key(queue_name: str, worker_id: str) -> str:
    """Marks a worker gone: set by the worker itself when it says goodbye, else by the first client
    to notice it lost (SET NX). So a lost worker is alerted once, not once per shard, and a worker
    that left cleanly never, however late a client looks."""
    return f"{queue_name}:gone:{worker_id}"


GONE_MEMORY_S = 24 * 3600
"""How long a gone worker's id is remembered."""


@dataclass(frozen=True)
class Heartbeat:
    """What a worker says every ``heartbeat_s``: who it is, what it renders, how busy it is, and
    ``leaving`` once it is stopping cleanly (then its silence is no loss)."""

    worker: str
    host: str
    backend: str
    jobs: int
    sent_at: float
    """Unix time."""
    leaving: bool = False

    def encode(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def decode(cls, data: bytes | str | None) -> Heartbeat | None:
        if data is None:
            return None
        try:
            return cls(**json.loads(data))
        except (TypeError, ValueError):
            return None


def waiters_key(queue_name: str, job_id: str) -> str:
    """A set of the clients following a job: the last one to withdraw aborts it."""
    return f"{queue_name}:waiters:{job_id}"


FINISHED = "finished"
"""Published after arq has stored the job's result: followers read it at once instead of polling."""


def encode_event(event: ProgressEvent | str) -> bytes:
    if isinstance(event, str):
        document: dict[str, Any] = {"type": event}
    elif isinstance(event, Queued):
        document = {
            "type": "queued",
            "position": event.position,
            "degraded": event.degraded,
            "wait_s": event.wait_s,
        }
    elif isinstance(event, Started):
        document = {"type": "started", "backend": event.backend, "batch_size": event.batch_size}
    elif isinstance(event, Step):
        document = {"type": "step", "stage": event.stage, "step": event.step, "total": event.total}
    elif isinstance(event, Decoding):
        document = {"type": "decoding"}
    else:
        raise ValueError(f"{event!r} is not published by workers")
    return json.dumps(document).encode()


def decode_event(data: bytes | str) -> ProgressEvent | str:
    """The event, or FINISHED; raises ValueError for anything else."""
    try:
        document = json.loads(data)
        kind = document["type"]
        if kind == "queued":
            wait_s = document.get("wait_s")
            return Queued(
                int(document["position"]),
                bool(document["degraded"]),
                None if wait_s is None else float(wait_s),
            )
        if kind == "started":
            return Started(str(document["backend"]), int(document["batch_size"]))
        if kind == "step":
            return Step(str(document["stage"]), int(document["step"]), int(document["total"]))
        if kind == "decoding":
            return Decoding()
        if kind == FINISHED:
            return FINISHED
    except (TypeError, KeyError, json.JSONDecodeError) as error:
        raise ValueError(f"unreadable progress message {data!r}") from error
    raise ValueError(f"unknown progress message type {kind!r}")
