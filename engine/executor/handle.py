"""ClipHandle: what a caller gets back from ``submit``: an awaitable Clip plus its progress events.

Both executor implementations hand out this class, so the bot cannot tell which one it has. All of a
handle's methods run on the event loop; executors feed it with ``_emit``, ``_resolve`` and ``_fail``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Generator
from typing import Any

from reactclip.engine.clip import Clip
from reactclip.engine.executor.errors import Cancelled
from reactclip.engine.executor.events import Done, EventCallback, ProgressEvent
from reactclip.engine.request_id import REQUEST_ID, new_request_id
from reactclip.engine.spec import GenerationSpec

log = logging.getLogger(__name__)


class ClipHandle:
    """One submitted request. ``await handle`` gives the Clip or raises the typed error."""

    def __init__(
        self,
        spec: GenerationSpec,
        priority: str,
        guild: str,
        user: str,
        on_event: EventCallback | None = None,
        on_cancel: Callable[[ClipHandle], None] | None = None,
    ) -> None:
        self.id = REQUEST_ID.get() or new_request_id()
        """The request's id where one is being worked on (request_id.py), so logs match."""
        self.spec = spec
        """The spec that will be rendered: the variant chosen and any degradation applied."""
        self.priority = priority
        self.guild = guild
        self.user = user
        self.degraded = False
        self.made_by: str | None = None
        """The backend chain entry that rendered the clip (the spec's variant, or a fallback name);
        None until then, and for a cached clip."""
        self.submitted_at = time.monotonic()
        self._on_event = on_event
        self._on_cancel = on_cancel
        self._future: asyncio.Future[Clip] = asyncio.get_running_loop().create_future()
        # Mark a failure as seen, so an unawaited cancelled handle does not log "never retrieved".
        self._future.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._events: asyncio.Queue[ProgressEvent | None] = asyncio.Queue()

    def __repr__(self) -> str:
        return f"<ClipHandle {self.id} {self.priority} guild={self.guild} user={self.user}>"

    def __await__(self) -> Generator[Any, None, Clip]:
        # shield: a caller's task being cancelled does not cancel the request; cancel() does.
        return asyncio.shield(self._future).__await__()

    async def result(self) -> Clip:
        return await self

    def done(self) -> bool:
        return self._future.done()

    def cancel(self) -> None:
        """Withdraw the request: a queued one leaves the queue; a running one's result is dropped."""
        if self.done():
            return
        if self._on_cancel is not None:
            self._on_cancel(self)
        else:
            self._fail(Cancelled())

    async def events(self) -> AsyncIterator[ProgressEvent]:
        """Every event so far and to come, ending after Done or when the request fails."""
        while True:
            event = await self._events.get()
            if event is None:
                return
            yield event

    def __aiter__(self) -> AsyncIterator[ProgressEvent]:
        return self.events()

    # For executors.

    def _emit(self, event: ProgressEvent) -> None:
        if self.done():
            return
        self._events.put_nowait(event)
        if self._on_event is not None:
            try:
                self._on_event(event)
            except Exception:
                log.exception("progress callback of request %s failed", self.id)

    def _resolve(self, clip: Clip) -> None:
        if self.done():
            return
        self._emit(Done(cache_hit=clip.cache_hit))
        self._future.set_result(clip)
        self._events.put_nowait(None)

    def _fail(self, error: BaseException) -> None:
        if self.done():
            return
        self._future.set_exception(error)
        self._events.put_nowait(None)
