"""The executor: a priority queue in front of the backends, with dynamic batching, load-based
degradation, OOM recovery, failover, an A/B rollout and optional caching.

``InProcessExecutor`` is the embedded default (one GPU owned by one worker thread); a distributed
executor meets the same ``Executor`` interface, so callers never know which one they have.
"""

from reactclip.engine.executor.alerts import Alert, FailoverAlert, Overloaded, QueueUnreachable, WorkerLost
from reactclip.engine.executor.base import Executor, ExecutorStats
from reactclip.engine.executor.errors import Busy, Cancelled, ExecutorError, GenerationFailed, ShuttingDown
from reactclip.engine.executor.events import (
    Decoding,
    Done,
    EventCallback,
    ProgressEvent,
    Queued,
    Started,
    Step,
)
from reactclip.engine.executor.executor import InProcessExecutor
from reactclip.engine.executor.handle import ClipHandle
from reactclip.engine.executor.queue import Priority
from reactclip.engine.executor.settings import ExecutorSettings

__all__ = [
    "Alert",
    "Busy",
    "Cancelled",
    "ClipHandle",
    "Decoding",
    "Done",
    "EventCallback",
    "Executor",
    "ExecutorError",
    "ExecutorSettings",
    "ExecutorStats",
    "FailoverAlert",
    "GenerationFailed",
    "InProcessExecutor",
    "Overloaded",
    "Priority",
    "ProgressEvent",
    "QueueUnreachable",
    "Queued",
    "ShuttingDown",
    "Started",
    "Step",
    "WorkerLost",
]
