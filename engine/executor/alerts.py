"""What an operator is told, and how: failover, sustained overload, a lost worker, an unreachable
Redis. Each alert is logged at error and POSTed as JSON to ``ExecutorSettings.webhook_url`` (a
Slack- or Discord-compatible hook reads its ``text``), and handed to the executor's ``on_alert``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class Alert:
    """One alert; ``kind`` names it in the webhook's ``event`` (``reactclip.executor.<kind>``)."""

    kind: ClassVar[str] = "alert"

    def message(self) -> str:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        return {"event": f"reactclip.executor.{self.kind}", **asdict(self), "text": self.message()}


@dataclass(frozen=True)
class FailoverAlert(Alert):
    """The executor switched backend after ``failures`` consecutive failures."""

    kind: ClassVar[str] = "failover"
    failures: int
    from_backend: str
    to_backend: str
    last_error: str

    def message(self) -> str:
        return (
            f"{self.failures} consecutive failures on {self.from_backend} (last: {self.last_error}); "
            f"switched to {self.to_backend}"
        )


@dataclass(frozen=True)
class Overloaded(Alert):
    """Load stayed above the degradation threshold for ``for_s`` seconds: clips are being made
    smaller, and more GPU capacity is due."""

    kind: ClassVar[str] = "overload"
    load: float
    threshold: float
    for_s: float

    def message(self) -> str:
        return (
            f"load {self.load:.2f} has been above {self.threshold:.2f} for {self.for_s:.0f} s: "
            "clips are degraded; add GPU workers"
        )


@dataclass(frozen=True)
class WorkerLost(Alert):
    """A worker stopped sending heartbeats without saying goodbye (killed, or its host is gone);
    its running jobs start again elsewhere once their lease lapses."""

    kind: ClassVar[str] = "worker_lost"
    worker: str
    host: str
    silent_s: float

    def message(self) -> str:
        return f"worker {self.worker} on {self.host} has sent no heartbeat for {self.silent_s:.0f} s"


@dataclass(frozen=True)
class QueueUnreachable(Alert):
    """The queue's Redis does not answer: requests are turned away as busy until it does."""

    kind: ClassVar[str] = "redis_unreachable"
    queue: str
    error: str

    def message(self) -> str:
        return (
            f"the Redis of queue {self.queue} cannot be reached ({self.error}); requests are refused as busy"
        )


async def post_webhook(url: str, alert: Alert, timeout_s: float) -> None:
    """POST the alert as JSON; aiohttp is imported here so it is needed only where a URL is set."""
    import aiohttp

    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as session,
        session.post(url, json=alert.to_dict()) as response,
    ):
        response.raise_for_status()
