"""Which jobs run next, together.

- Interactive jobs always go first, alone or in a small batch (``max_interactive_batch``) of
  compatible specs: batching raises every member's latency.
- Batch jobs are merged when compatible (equal ``GenerationSpec.batch_key``), up to ``max_batch``.
  A group runs once it is full or its oldest job has waited ``max_wait_s``; until then the GPU idles
  so that an interactive arrival finds it free.
"""

from __future__ import annotations

from collections.abc import Hashable

from reactclip.engine.executor.queue import FairQueue, Job


def pick_batch(
    interactive: FairQueue,
    batch: FairQueue,
    *,
    max_interactive_batch: int,
    max_batch: int,
    max_wait_s: float,
    now: float,
    flush: bool = False,
) -> tuple[list[Job], float | None]:
    """The jobs to run now (empty when none should), and when to look again if some are waiting
    for company. ``flush`` runs waiting batch groups at once (shutdown)."""
    if interactive:
        head, *rest = interactive.ordered()
        key = head.spec.batch_key()
        return [head, *(job for job in rest if job.spec.batch_key() == key)][:max_interactive_batch], None

    groups: dict[Hashable, list[Job]] = {}
    for job in batch.ordered():
        groups.setdefault(job.spec.batch_key(), []).append(job)
    wake_at: float | None = None
    # Groups in the fair order of their first job, so fairness holds across groups too.
    for jobs in groups.values():
        ready_at = min(job.enqueued_at for job in jobs) + max_wait_s
        if flush or len(jobs) >= max_batch or now >= ready_at:
            return jobs[:max_batch], None
        wake_at = ready_at if wake_at is None else min(wake_at, ready_at)
    return [], wake_at
