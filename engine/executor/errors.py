"""The executor's typed errors; each message is written for the person who asked."""

from __future__ import annotations

import math


class ExecutorError(RuntimeError):
    """A request could not be served by the executor (not a bug in the request itself)."""


class Busy(ExecutorError):
    """The queue is full; ``retry_after_s`` estimates when a place frees up."""

    def __init__(self, retry_after_s: float) -> None:
        self.retry_after_s = max(1, math.ceil(retry_after_s))
        super().__init__(f"busy, try again in {self.retry_after_s} s")


class ShuttingDown(ExecutorError):
    """The executor is stopping and did not (or will not) run this request."""

    def __init__(self) -> None:
        super().__init__("the clip service is restarting; please try again in a minute")


class Cancelled(ExecutorError):
    """The requester withdrew the request (e.g. deleted the message)."""

    def __init__(self) -> None:
        super().__init__("the request was cancelled")


class GenerationFailed(ExecutorError):
    """Every attempt at rendering or encoding this request failed; ``__cause__`` holds the last error."""
