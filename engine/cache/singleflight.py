"""Single-flight: identical requests in flight at once share one generation.

The field report found about 30% of requests repeat hot prompts, and repeats arrive in bursts (one
message, many people pressing the same button). The first caller for a key starts the work; callers
that arrive before it finishes wait for the same result instead of queueing another generation.
A cache lookup and a put around ``run`` then serve the callers that arrive afterwards.

This shares work within one process (one event loop); across processes the cache and the job queue
do that.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

T = TypeVar("T")


@dataclass
class _Flight:
    task: asyncio.Future[Any]
    waiters: int = 0


class SingleFlight:
    """Runs at most one ``make()`` per key at a time and hands its result to every caller.

    - The leader's exception reaches every waiter, and the key is free again at once, so the next
      call retries rather than receiving a stale failure.
    - A waiter that is cancelled stops waiting; the shared call runs on for the others.
    - When every waiter has been cancelled, nobody wants the result: the shared call is cancelled.
    """

    def __init__(self) -> None:
        self._flights: dict[Hashable, _Flight] = {}

    def in_flight(self) -> int:
        """How many keys have a call running now."""
        return len(self._flights)

    async def run(self, key: Hashable, make: Callable[[], Awaitable[T]]) -> T:
        flight = self._flights.get(key)
        if flight is None or flight.task.done():
            flight = _Flight(asyncio.ensure_future(make()))
            self._flights[key] = flight
            flight.task.add_done_callback(functools.partial(self._forget_done, key, flight))
        flight.waiters += 1
        try:
            # shield: cancelling this caller must not cancel the call the others share.
            return cast(T, await asyncio.shield(flight.task))
        finally:
            flight.waiters -= 1
            if flight.waiters == 0 and not flight.task.done():
                self._forget(key, flight)
                flight.task.cancel()

    def _forget_done(self, key: Hashable, flight: _Flight, _task: asyncio.Future[Any]) -> None:
        self._forget(key, flight)

    def _forget(self, key: Hashable, flight: _Flight) -> None:
        # Only this flight: a later call may already have started a new one under the same key.
        if self._flights.get(key) is flight:
            del self._flights[key]
