"""The requester's side in Prometheus metrics: each request's outcome by entry point, the time of each
stage, moderation blocks, A/B latency and votes, and the event loop's lag.

``RequestMetrics`` watches a request's event stream (events.py), so every entry point is counted the
same way without counting anything itself; the engine's own metrics (render, queue, cache,
failover) are in engine/metrics.py. Outcomes the Discord layer decides before a request exists (a
cooldown, a channel where the bot is off) are counted there with ``count_outcome``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

from reactclip.bot.events import Analysed, Event, Failed, Finished, Heard, Progress, Refusal, Started
from reactclip.bot.refusals import FrameRefused, TextRefused
from reactclip.bot.request import Request
from reactclip.engine.executor import Busy
from reactclip.engine.metrics import RENDER_BUCKETS
from reactclip.engine.spec import SpecError
from reactclip.speech.errors import AudioError, NotUnderstood

REQUESTS = Counter(
    "reactclip_requests",
    "Requests by entry point and outcome: clip, refused, busy, not_understood, bad_audio, bad_input, "
    "failed, cancelled, cooldown",
    ["entry", "outcome"],
)
REFUSALS = Counter("reactclip_refusals", "Refused requests, by moderation category", ["entry", "category"])
MODERATION_BLOCKS = Counter(
    "reactclip_moderation_blocks",
    "Moderation blocks by category and the layer that decided (lexicon, semantic, real_person, "
    "policy, frames)",
    ["category", "layer"],
)
STAGE_SECONDS = Histogram(
    "reactclip_stage_seconds",
    "Seconds per stage of a request: hearing, analysis, queue_wait, upload, end_to_end",
    ["stage"],
    buckets=RENDER_BUCKETS,
)
VARIANT_SECONDS = Histogram(
    "reactclip_variant_seconds",
    "End-to-end seconds of each clip made (not cached), by A/B variant",
    ["variant"],
    buckets=RENDER_BUCKETS,
)
VARIANT_OUTCOMES = Counter(
    "reactclip_variant_outcomes",
    "Requests that reached a variant, by outcome (clip or failed)",
    ["variant", "outcome"],
)
VOTES = Counter("reactclip_votes", "Thumbs up and down under clips, by variant", ["variant", "vote"])
LOOP_LAG = Gauge("reactclip_event_loop_lag_seconds", "How late the event loop ran a timer, last measured")


def count_outcome(entry: str, outcome: str) -> None:
    """An outcome decided before the pipeline (cooldown, not enabled here)."""
    REQUESTS.labels(entry, outcome).inc()


def timed_stage(stage: str) -> Any:
    """Time a stage no event marks (Discord's upload of the clip) into ``reactclip_stage_seconds``."""
    return STAGE_SECONDS.labels(stage).time()


def count_vote(variant: str | None, vote: str) -> None:
    """A thumbs up or down under a clip of ``variant`` ("unknown" for clips posted before variants
    were kept). Voting again on one clip counts again: the share is of votes cast."""
    VOTES.labels(variant or "unknown", vote).inc()


def outcome_of(error: BaseException) -> str:
    """The outcome label for the error that ended a request."""
    if isinstance(error, Busy):
        return "busy"
    if isinstance(error, NotUnderstood):
        return "not_understood"
    if isinstance(error, AudioError):
        return "bad_audio"
    if isinstance(error, SpecError):
        return "bad_input"
    return "failed"


@dataclass
class RequestMetrics:
    """What one request's events say, observed as they pass (``observe``), and ``finish`` once the
    stream ends without a final event (the caller left: cancelled)."""

    request: Request
    started: float = field(default_factory=time.monotonic)
    _mark: float = field(default_factory=time.monotonic)
    _variant: str | None = None
    _ended: bool = False

    def observe(self, event: Event) -> None:
        entry = self.request.origin.entry
        now = time.monotonic()
        if isinstance(event, Heard):
            STAGE_SECONDS.labels("hearing").observe(now - self._mark)
            self._mark = now
        elif isinstance(event, Analysed):
            STAGE_SECONDS.labels("analysis").observe(now - self._mark)
            self._variant = event.analysis.spec.variant if event.analysis.spec is not None else None
        elif isinstance(event, Progress) and isinstance(event.event, Started):
            STAGE_SECONDS.labels("queue_wait").observe(now - self._mark)
        elif isinstance(event, Finished):
            self._end("clip")
            STAGE_SECONDS.labels("end_to_end").observe(now - self.started)
            if not event.clip.cache_hit:
                VARIANT_SECONDS.labels(event.clip.variant).observe(now - self.started)
                VARIANT_OUTCOMES.labels(event.clip.variant, "clip").inc()
        elif isinstance(event, Refusal):
            self._end("refused")
            REFUSALS.labels(entry, event.error.category).inc()
            if isinstance(event.error, TextRefused):  # analysis ended here, before generation
                STAGE_SECONDS.labels("analysis").observe(now - self._mark)
                MODERATION_BLOCKS.labels(event.error.category, event.error.verdict.layer).inc()
            elif isinstance(event.error, FrameRefused):
                MODERATION_BLOCKS.labels(event.error.category, "frames").inc()
        elif isinstance(event, Failed):
            outcome = outcome_of(event.error)
            self._end(outcome)
            if outcome == "failed" and self._variant is not None:
                VARIANT_OUTCOMES.labels(self._variant, "failed").inc()
        if isinstance(event, Analysed):
            self._mark = now

    def finish(self) -> None:
        if not self._ended:
            self._end("cancelled")

    def _end(self, outcome: str) -> None:
        self._ended = True
        REQUESTS.labels(self.request.origin.entry, outcome).inc()


async def watch_loop_lag(interval_s: float = 1.0) -> None:
    """Measure, until cancelled, how late the loop wakes from a sleep: a blocked loop (a model call
    outside a thread) shows here before Discord's heartbeat warnings."""
    loop = asyncio.get_running_loop()
    with contextlib.suppress(asyncio.CancelledError):
        while True:
            before = loop.time()
            await asyncio.sleep(interval_s)
            LOOP_LAG.set(max(0.0, loop.time() - before - interval_s))
