"""The distributed executor: bot shards anywhere enqueue arq jobs in Redis; any number of
``reactclip worker`` processes on GPU hosts render them into the shared Redis clip store.

``DistributedExecutor`` meets the same ``Executor`` interface as ``InProcessExecutor``; ``run_worker``
is what ``reactclip worker`` runs. ``protocol`` holds what both sides agree on.
"""

from reactclip.engine.executor.distributed.executor import DistributedExecutor
from reactclip.engine.executor.distributed.protocol import DEFAULT_QUEUE
from reactclip.engine.executor.distributed.worker import ClipWorker, run_worker

__all__ = ["DEFAULT_QUEUE", "ClipWorker", "DistributedExecutor", "run_worker"]
