"""What the in-process and the distributed executor keep the same way, written once: opening and
closing, their background tasks, the counters, the A/B arm and the handle a request gets at
submit, delivering a clip to a handle, and failing handles with a typed error.

Each executor adds how it queues and runs work (a local GPU thread, or arq jobs for workers).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import Counter
from collections.abc import Coroutine, Iterable
from typing import Any

from reactclip.engine.clip import Clip
from reactclip.engine.executor.abtest import VariantChooser
from reactclip.engine.executor.errors import ExecutorError, GenerationFailed, ShuttingDown
from reactclip.engine.executor.events import EventCallback
from reactclip.engine.executor.handle import ClipHandle
from reactclip.engine.executor.queue import Priority
from reactclip.engine.executor.settings import ExecutorSettings
from reactclip.engine.spec import GenerationSpec


class ExecutorCore:
    """The bookkeeping both executors share; ``_cancel`` is each one's own."""

    def __init__(self, settings: ExecutorSettings) -> None:
        self.settings = settings
        self._chooser = VariantChooser(settings.variants) if settings.variants else None
        """Chosen at submit, so that the cache key names the arm."""
        self.counters: Counter[str] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False

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
