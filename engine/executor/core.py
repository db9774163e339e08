"""What the in-process and the distributed executor keep the same way, written once: opening and
closing, their background tasks, the counters, the A/B arm and the handle a request gets at
submit, alerts (and the watch that raises one when load stays high), delivering a clip to a
handle, and failing handles with a typed error.

Each executor adds how it queues and runs work (a local GPU thread, or arq jobs for workers).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any

from reactclip.engine.clip import Clip
from reactclip.engine.executor.abtest import VariantChooser
from reactclip.engine.executor.alerts import Alert, Overloaded, post_webhook
from reactclip.engine.executor.errors import ExecutorError, GenerationFailed, ShuttingDown
from reactclip.engine.executor.events import EventCallback
from reactclip.engine.executor.handle import ClipHandle
from reactclip.engine.executor.queue import Priority
from reactclip.engine.executor.settings import ExecutorSettings
from reactclip.engine.spec import GenerationSpec

log = logging.getLogger(__name__)

AlertHook = Callable[[Alert], Awaitable[None]]
LOAD_CHECK_S = 5.0
"""How often the load watch looks (more often when ``overload_alert_s`` is short)."""


class ExecutorCore:
    """The bookkeeping both executors share; ``_cancel`` is each one's own."""

    def __init__(self, settings: ExecutorSettings, on_alert: AlertHook | None = None) -> None:
        self.settings = settings
        self._chooser = VariantChooser(settings.variants) if settings.variants else None
        """Chosen at submit, so that the cache key names the arm."""
        self.counters: Counter[str] = Counter()
        self.alerts: Counter[str] = Counter()
        """Alerts raised, by kind."""
        self._on_alert = on_alert
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False

    def load(self) -> float:
        raise NotImplementedError

    def _check_open(self) -> None:
        if self._closing:
            raise ShuttingDown()

    def _new_handle(
        self,
        spec: GenerationSpec,
        priority: Priority,
        guild: str | None,
        user: str,
        on_event: EventCallback | None,
    ) -> ClipHandle:
        """The handle of a request being submitted, its spec on its A/B arm. Without a guild
        (a DM), the fair queue shares the GPU per user."""
        if self._chooser is not None:
            spec = self._chooser.assign(spec, user)
        return ClipHandle(spec, priority.value, guild or f"dm:{user}", user, on_event, self._cancel)

    def _cancel(self, handle: ClipHandle) -> None:
        raise NotImplementedError

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run ``work`` in the background; ``_drain_tasks`` waits for it at shutdown."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _drain_tasks(self) -> None:
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # Alerts.

    def _raise_alert(self, alert: Alert) -> None:
        log.error("executor alert: %s", alert.message())
        self.counters["alerts"] += 1
        self.alerts[alert.kind] += 1
        self._spawn(self._notify(alert))

    async def _notify(self, alert: Alert) -> None:
        if self._on_alert is not None:
            try:
                await self._on_alert(alert)
            except Exception:
                log.exception("the alert callback failed")
        if self.settings.webhook_url:
            try:
                await post_webhook(self.settings.webhook_url, alert, self.settings.webhook_timeout_s)
            except Exception as exc:  # the URL may hold a token: never log it
                log.warning("the alert webhook failed: %s: %s", type(exc).__name__, exc)

    async def _watch_load(self) -> None:
        """Alert once when load stays above the degradation threshold for ``overload_alert_s``
        (again only after it has dropped below). Runs until cancelled."""
        limit_s = self.settings.overload_alert_s
        above_since: float | None = None
        alerted = False
        while True:
            await asyncio.sleep(min(limit_s / 4, LOAD_CHECK_S))
            now, load = time.monotonic(), self.load()
            if load <= self.settings.degrade_threshold:
                above_since, alerted = None, False
                continue
            above_since = above_since if above_since is not None else now
            if not alerted and now - above_since >= limit_s:
                alerted = True
                self._raise_alert(
                    Overloaded(round(load, 3), self.settings.degrade_threshold, now - above_since)
                )


def deliver(handle: ClipHandle, clip: Clip, started_at: float | None) -> None:
    """Resolve ``handle`` with ``clip``, its queue time its own (from its submit to the start of
    the call that made the clip, which it may have joined late)."""
    queued = max((started_at or time.monotonic()) - handle.submitted_at, 0.0)
    handle._resolve(dataclasses.replace(clip, timings=dataclasses.replace(clip.timings, queued=queued)))


def fail_all(handles: Iterable[ClipHandle], error: BaseException) -> None:
    """Fail every handle with a typed error: an ExecutorError as it is, anything else as
    GenerationFailed caused by it (so callers word one kind of failure)."""
    if not isinstance(error, ExecutorError):
        failed = GenerationFailed(f"the clip could not be made: {error}")
        failed.__cause__ = error
        error = failed
    for handle in handles:
        handle._fail(error)
