"""Progress on Discord: one message edited as the request moves (queue position, then "step k of n"),
at most once every 1.5 s (Discord rate-limits edits), and always a final edit with the clip."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from reactclip.bot.events import Decoding, ProgressEvent, Queued, Started, Step

log = logging.getLogger(__name__)

Edit = Callable[[str], Awaitable[Any]]


class EditThrottle:
    """Spaces edits at least ``interval_s`` apart; pure, so a fake clock can test it."""

    def __init__(self, interval_s: float = 1.5, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_s = interval_s
        self._clock = clock
        self._last: float | None = None

    def wait_s(self) -> float:
        """Seconds until the next edit may go out; 0 if now."""
        if self._last is None:
            return 0.0
        return max(0.0, self._last + self.interval_s - self._clock())

    def ready(self) -> bool:
        return self.wait_s() == 0.0

    def record(self) -> None:
        """An edit went out now."""
        self._last = self._clock()


def describe_event(event: ProgressEvent) -> str | None:
    """The status line for one event; None for events that change nothing a person sees."""
    if isinstance(event, Queued):
        where = "next in line" if event.position == 0 else f"position {event.position + 1} in the queue"
        if event.wait_s is not None and event.wait_s >= 1:
            where += f", about {describe_wait(event.wait_s)}"
        return where + (" (busy: a smaller clip)" if event.degraded else "")
    if isinstance(event, Started):
        return "starting"
    if isinstance(event, Step):
        return f"step {event.step} of {event.total}"
    if isinstance(event, Decoding):
        return "encoding"
    return None  # Done: the final edit (the clip) follows


def describe_wait(seconds: float) -> str:
    """A wait as people say it: "12 s", "3 min"."""
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


class ProgressMessage:
    """Feeds status lines to one message. ``update`` is the executor's event callback (it runs on the
    loop and never blocks); a background task sends the newest line when the throttle allows, so
    lines that arrive faster than that are skipped, never queued. ``finish`` stops the task; the
    caller's final edit (the clip) is not throttled."""

    def __init__(
        self,
        edit: Edit,
        render: Callable[[str], str],
        throttle: EditThrottle,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self._edit = edit
        self._render = render
        self._throttle = throttle
        self._sleep = sleep
        self._pending: str | None = None
        self._shown: str | None = None
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._in_flight: asyncio.Future[None] | None = None
        self.edits = 0

    def start(self, shown: str | None = None) -> ProgressMessage:
        """Start the sender; ``shown`` is the line the message already has (its first send)."""
        self._shown = shown
        if shown is not None:
            self._throttle.record()
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def update(self, event: ProgressEvent) -> None:
        line = describe_event(event)
        if line is not None and line != self._shown:
            self._pending = line
            self._changed.set()

    async def _run(self) -> None:
        while True:
            await self._changed.wait()
            wait = self._throttle.wait_s()
            if wait > 0:
                await self._sleep(wait)
            self._changed.clear()
            line, self._pending = self._pending, None
            if line is None or line == self._shown:
                continue
            self._throttle.record()
            self._shown = line
            self.edits += 1
            # Shielded: an edit already on its way is awaited by ``finish``, never cut off, so it
            # cannot land after the final edit.
            self._in_flight = asyncio.ensure_future(self._send(self._render(line)))
            await asyncio.shield(self._in_flight)
            self._in_flight = None

    async def _send(self, content: str) -> None:
        try:
            await self._edit(content)
        except Exception as exc:  # a lost progress edit is harmless; the final edit matters
            log.debug("progress edit failed: %s", exc)

    async def finish(self) -> None:
        """Stop sending progress; call before the final edit."""
        if self._task is not None:
            self._task.cancel()
            if self._in_flight is not None:
                await self._in_flight
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
