"""The one interface the bot talks to; the in-process and the distributed executor both meet it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from reactclip.engine.executor.events import EventCallback
from reactclip.engine.executor.handle import ClipHandle
from reactclip.engine.executor.queue import Priority
from reactclip.engine.spec import GenerationSpec


@dataclass(frozen=True)
class ExecutorStats:
    queued: dict[str, int]
    """Queued jobs per priority class."""
    load: float
    """Work an interactive request would wait behind, over the interactive deadline."""
    running: int
    """Jobs on the GPU now."""
    backend: str
    """"primary" or the fallback in use."""
    variants: dict[str, int] = field(default_factory=dict)
    """Clips made per variant (the A/B arm, or the backend's variant)."""
    assigned: dict[str, int] = field(default_factory=dict)
    """Requests per A/B arm."""
    alerts: dict[str, int] = field(default_factory=dict)
    """Alerts raised, by kind (failover, overload, worker_lost, redis_unreachable)."""
    workers: dict[str, float] | None = None
    """Distributed only: each live worker's seconds since its last heartbeat."""
    counters: dict[str, int] = field(default_factory=dict)
    """failures, retries, oom_splits, alerts, recoveries, cache_hits, cache_misses, shared, busy,
    degraded, cancelled, preemptions (batch-class calls stopped for interactive work)."""


class Executor(Protocol):
    async def submit(
        self,
        spec: GenerationSpec,
        priority: Priority | str = Priority.INTERACTIVE,
        *,
        guild: str | None = None,
        user: str = "anonymous",
        on_event: EventCallback | None = None,
    ) -> ClipHandle:
        """Queue a request; raises Busy when the queue is full and ShuttingDown when stopping."""
        ...

    def expected_wait_s(self, spec: GenerationSpec) -> float | None:
        """Roughly how long an interactive request for ``spec`` submitted now would wait for its
        clip (the work ahead of it and its own), from the executor's own cost model; None while the
        backend's speed is not known yet (before its first clip)."""
        ...

    async def renderer_name(self) -> str | None:
        """The name of the backend that renders requests now ("wan", "sticker", ...), loading it
        if need be; None while nobody has said (a distributed queue before its first worker)."""
        ...

    def stats(self) -> ExecutorStats: ...

    async def shutdown(self, drain: bool = True) -> None:
        """Finish (drain) or fail with ShuttingDown every queued request, then release the backends."""
        ...
