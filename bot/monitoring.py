"""What an operator's monitoring reads from a running ``reactclip run`` or ``reactclip worker``, over
HTTP: ``/metrics`` (Prometheus text format, prometheus-client's registry), ``/health`` (the process
answers) and ``/ready`` (each readiness check, 503 until all pass).

It runs on the process's own event loop (aiohttp), bound to 127.0.0.1 unless the operator binds it
elsewhere (``MonitoringSettings.host``): the metrics name guilds' load and variants, nothing for
the open internet. A check is a named function returning True, or False or raising with why not.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.registry import Collector
from redis.asyncio import Redis

from reactclip.bot.settings import Settings
from reactclip.engine.metrics import ExecutorCollector
from reactclip.engine.settings import EngineSettings

if TYPE_CHECKING:  # the bot's own server must not pull in arq
    from reactclip.engine.executor.distributed.worker import Around, ClipWorker

log = logging.getLogger(__name__)

Check = Callable[[], "bool | Awaitable[bool]"]
CHECK_TIMEOUT_S = 2.0


class MonitoringServer:
    """``/metrics``, ``/health`` and ``/ready`` for one process. ``collectors`` join the registry
    while the server runs (an executor's state, read at scrape time)."""

    def __init__(
        self,
        host: str,
        port: int,
        checks: Mapping[str, Check],
        collectors: tuple[Collector, ...] = (),
    ) -> None:
        self.host, self.port = host, port
        self._checks = dict(checks)
        self._collectors = collectors
        self._runner: web.AppRunner | None = None

    async def start(self) -> int:
        """Listen; returns the port (the one the system chose for port 0 in tests)."""
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/health", self._health)
        app.router.add_get("/ready", self._ready)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            self._runner = None
            raise OSError(
                exc.errno,
                f"cannot serve metrics on {self.host}:{self.port} ({exc.strerror}); "
                "choose another with --metrics-port, or 0 to turn them off",
            ) from None
        for collector in self._collectors:
            REGISTRY.register(collector)
        self.port = self._runner.addresses[0][1]
        log.info("metrics on http://%s:%d/metrics", self.host, self.port)
        return self.port

    async def stop(self) -> None:
        if self._runner is None:
            return
        for collector in self._collectors:
            REGISTRY.unregister(collector)
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> MonitoringServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _metrics(self, request: web.Request) -> web.Response:
        # On the loop: collectors read executor state that only the loop may touch (a few ms).
        body = generate_latest(REGISTRY)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def _ready(self, request: web.Request) -> web.Response:
        results = dict(
            zip(self._checks, await asyncio.gather(*map(_run, self._checks.values())), strict=True)
        )
        ready = all(result is True for result in results.values())
        return web.json_response({"ready": ready, "checks": results}, status=200 if ready else 503)


def worker_monitoring(settings: Settings, redis_url: str, port: int) -> Around:
    """``reactclip worker``'s server, started once its backend has loaded: /ready is the backend
    loaded and the queue's Redis reachable."""

    @contextlib.asynccontextmanager
    async def serve(worker: ClipWorker) -> AsyncIterator[None]:
        checks: dict[str, Check] = {
            "backend": lambda: worker.executor is not None,
            "redis": _ping(redis_url),
        }
        # The worker's own executor keeps no store (it puts clips into Redis itself): no lookups.
        collector = ExecutorCollector(lambda: worker.executor, "none")
        async with MonitoringServer(settings.monitoring.host, port, checks, (collector,)):
            yield

    return serve


def redis_check(settings: EngineSettings) -> dict[str, Check]:
    """A "redis" check where the settings use Redis (the distributed queue or the shared clip
    store); none otherwise."""
    if not (settings.distributed.enabled or settings.cache.store == "redis"):
        return {}
    return {"redis": _ping(settings.redis_url)}


def _ping(url: str) -> Check:
    async def ping() -> bool:
        client = Redis.from_url(url, socket_connect_timeout=CHECK_TIMEOUT_S)
        try:
            return bool(await client.ping())
        finally:
            await client.aclose()

    return ping


async def _run(check: Check) -> Any:
    """True, or why not: False, or the error the check raised (a check never breaks /ready)."""
    try:
        result = check()
        if inspect.isawaitable(result):
            result = await asyncio.wait_for(result, CHECK_TIMEOUT_S)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return bool(result)
