"""ExecutorSettings: how the executor queues, batches, degrades and fails over, in one object.

Like every engine section, it is built by the bot's ``Settings`` and handed down; nothing here reads
the environment.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator


class ExecutorSettings(BaseModel):
    max_batch: int = Field(4, ge=1, le=64, description="Most batch-class specs merged into one call")
    max_wait_s: float = Field(
        0.5, ge=0, description="Longest a batch-class spec waits for compatible company when the GPU is free"
    )
    max_interactive_batch: int = Field(
        1,
        ge=1,
        le=4,
        description="Most interactive specs per call; the field report saw batch 4 raise latency 3 s -> 9 s",
    )
    preempt: bool = Field(
        True,
        description="Stop a batch-class call between steps when an interactive request arrives; the "
        "batch goes back to the front of its queue and runs again from the start",
    )
    preempt_ratio: float = Field(
        0.5,
        ge=0,
        description="Preempt only when the running call's estimated remainder exceeds this x the "
        "interactive job's own cost: near its end, a batch is cheaper to wait for than to redo",
    )
    max_preemptions: int = Field(
        4, ge=0, description="Times one batch job may be preempted before it runs to completion"
    )
    queue_cap: int = Field(32, ge=1, description="Queued interactive requests before new ones get Busy")
    guild_queue_share: float = Field(
        0.75,
        gt=0,
        le=1,
        description="Share of queue_cap one guild (or one user in DMs) may hold; past it, that guild's new "
        "requests get Busy while other guilds still get in",
    )
    batch_queue_cap: int = Field(10_000, ge=1, description="Queued batch requests before new ones get Busy")

    interactive_latency_x: float = Field(
        1.5,
        gt=1,
        description="An interactive clip should be ready within this many times its own render time "
        "(the field report's target); the wait ahead of it plus its render, over that, is the load",
    )
    degrade_threshold: float = Field(
        0.8, gt=0, description="Load above which interactive specs shrink rather than queue"
    )
    degrade_to: Literal["size", "frames"] = "size"
    degraded_size: tuple[int, int] = Field((320, 240), description="Landscape (width, height) when degraded")
    degraded_frames: int = Field(8, ge=8, le=16)

    seconds_per_unit: float = Field(
        0.02,
        gt=0,
        description="Initial cost model: seconds per step per million model pixel-frames, calibrated "
        "from observed timings",
    )
    batch_overhead_s: float = Field(0.5, ge=0, description="Fixed seconds per backend call")

    retries: int = Field(1, ge=0, description="Times a failed batch is tried again")
    failure_threshold: int = Field(3, ge=1, description="Consecutive failures before switching backend")
    fallbacks: list[str] = Field(
        default_factory=lambda: ["sticker"],
        description="Backup backends in order, tried after the primary; the last should be sticker",
    )
    probe_interval_s: float = Field(60.0, gt=0, description="How often a failed primary is probed")
    webhook_url: str | None = Field(
        None, description="Where alerts (failover, overload, a lost worker, Redis down) are POSTed as JSON"
    )
    overload_alert_s: float = Field(
        60.0, gt=0, description="Alert when load stays above degrade_threshold this long"
    )
    webhook_timeout_s: float = Field(5.0, gt=0)

    variants: dict[str, float] = Field(
        default_factory=dict,
        description='A/B rollout weights by variant name, e.g. {"wan-a": 0.9, "wan-b": 0.1}; empty = off',
    )
    encode_workers: int = Field(
        4, ge=1, le=16, description="Threads that encode finished frames; at least max_batch, or clips wait"
    )

    @property
    def guild_queue_cap(self) -> int:
        """Queued interactive requests one guild may hold (at least one)."""
        return max(1, int(self.queue_cap * self.guild_queue_share))

    @field_validator("variants")
    @classmethod
    def _positive_weights(cls, weights: dict[str, float]) -> dict[str, float]:
        bad = {name: w for name, w in weights.items() if w < 0 or not name.strip()}
        if bad:
            raise ValueError(f"variant weights must be >= 0 with non-empty names; got {bad}")
        if weights and sum(weights.values()) <= 0:
            raise ValueError("at least one variant needs a weight above 0")
        return weights
