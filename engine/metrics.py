"""The engine's Prometheus metrics: what the GPU side measures as it works (render, encode and batch
histograms, peak GPU memory) and a collector that reads an executor's own bookkeeping when scraped.

Why a collector rather than a counter bumped at each site: the executors already keep their
counters, queue lengths, load and failover state (``stats()``, which tests and ``/reactclip status``
read), so the scrape reads that one source instead of a second tally that could drift from it. The
histograms have no such source and are observed where the work happens, so a worker process shows
its own renders. Everything lands in prometheus-client's default registry; ``bot/monitoring.py``
serves it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:  # the executor records into this module's histograms
    from reactclip.engine.executor.base import Executor

RENDER_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300)
GIB = 2**30

RENDER_SECONDS = Histogram(
    "reactclip_render_seconds",
    "Seconds of one backend call (a batch), by backend and the variant it rendered for",
    ["backend", "variant"],
    buckets=RENDER_BUCKETS,
)
ENCODE_SECONDS = Histogram(
    "reactclip_encode_seconds",
    "Seconds to encode one clip's frames (MP4, GIF or WebP) to fit the upload limit",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5),
)
BATCH_SIZE = Histogram(
    "reactclip_batch_size",
    "Requests rendered together in one backend call, by priority class",
    ["priority"],
    buckets=(1, 2, 3, 4, 6, 8, 12, 16),
)
PEAK_GPU_MEMORY = Histogram(
    "reactclip_peak_gpu_memory_bytes",
    "Peak GPU memory of one render, by backend (CUDA only)",
    ["backend"],
    buckets=tuple(gib * GIB for gib in (1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 80, 96, 141)),
)

COUNTERS: dict[str, tuple[str, str]] = {
    "shared": ("reactclip_jobs_joined", "Requests that joined an identical job already in flight"),
    "busy": ("reactclip_busy", "Requests refused because a queue (or a guild's share of it) was full"),
    "degraded": ("reactclip_degraded_clips", "Interactive requests rendered smaller because of load"),
    "failures": ("reactclip_render_failures", "Backend calls that failed"),
    "retries": ("reactclip_render_retries", "Failed backend calls tried again"),
    "oom_splits": ("reactclip_oom_splits", "Batches split in two after running out of GPU memory"),
    "recoveries": ("reactclip_failover_recoveries", "Switches back to the primary backend"),
    "probe_failures": ("reactclip_probe_failures", "Probes of a failed primary that failed again"),
    "cancelled": ("reactclip_cancelled", "Requests whose requester stopped waiting"),
    "preemptions": ("reactclip_preemptions", "Batch-class calls stopped early for interactive work"),
}
"""The executor counters exposed, by their key in ``ExecutorStats.counters``: name and meaning."""
ALERT_KINDS = ("failover", "overload", "worker_lost", "redis_unreachable")
"""Every kind is reported (zero until raised), so alert rules need no absent() guard."""


class ExecutorCollector(Collector):
    """An executor's state at scrape time; ``executor()`` gives it, or None while there is none yet
    (nothing is reported then). ``store`` names the clip store its cache hits and misses are counted
    against: the ``cache.store`` setting ("local", "redis" or "none")."""

    def __init__(self, executor: Callable[[], Executor | None], store: str) -> None:
        self._executor = executor
        self._store = store

    def collect(self) -> Iterator[Metric]:
        executor = self._executor()
        if executor is None:
            return
        stats = executor.stats()
        depth = GaugeMetricFamily(
            "reactclip_queue_depth", "Requests waiting, by priority", labels=["priority"]
        )
        for priority, count in sorted(stats.queued.items()):
            depth.add_metric([priority], count)
        yield depth
        yield GaugeMetricFamily(
            "reactclip_load",
            "Work an interactive request would now wait behind, over its latency budget (degrades above 0.8)",
            value=stats.load,
        )
        yield GaugeMetricFamily("reactclip_jobs_running", "Requests on the GPU now", value=stats.running)
        failover = GaugeMetricFamily(
            "reactclip_failover_active",
            "1 while a fallback backend serves instead of the primary",
            labels=["using"],
        )
        failover.add_metric([stats.backend], 0 if stats.backend in ("primary", "distributed") else 1)
        yield failover

        counters = stats.counters
        lookups = CounterMetricFamily(
            "reactclip_cache_lookups", "Clip cache lookups, by store and result", labels=["store", "result"]
        )
        for result in ("hit", "miss"):
            lookups.add_metric([self._store, result], counters.get(f"cache_{result}s", 0))
        yield lookups
        for key, (name, documentation) in COUNTERS.items():
            yield CounterMetricFamily(name, documentation, value=counters.get(key, 0))
        alerts = CounterMetricFamily("reactclip_alerts", "Alerts raised, by kind", labels=["kind"])
        for kind in ALERT_KINDS:
            alerts.add_metric([kind], stats.alerts.get(kind, 0))
        yield alerts
        if stats.workers is not None:
            yield GaugeMetricFamily(
                "reactclip_workers_alive", "Workers heard from lately", value=len(stats.workers)
            )
            age = GaugeMetricFamily(
                "reactclip_worker_heartbeat_age_seconds",
                "Seconds since each worker's last heartbeat",
                labels=["worker"],
            )
            for worker, seconds in sorted(stats.workers.items()):
                age.add_metric([worker], seconds)
            yield age
        yield _per_variant("reactclip_ab_assignments", "Requests assigned to each A/B arm", stats.assigned)
        yield _per_variant(
            "reactclip_clips_made", "Clips made, by variant (A/B arm or backend)", stats.variants
        )


def _per_variant(name: str, documentation: str, counts: dict[str, int]) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=["variant"])
    for variant, count in sorted(counts.items()):
        family.add_metric([variant], count)
    return family
