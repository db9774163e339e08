"""Start and stop the review page on an address: the CLI serves it until Ctrl-C, tests start it on a
free port in a thread of their own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiohttp import web

from reactclip.bot.review.app import ReviewConfig, review_app
from reactclip.bot.review.remake import ServiceFactory
from reactclip.bot.review.security import TOKEN_QUERY, PageGuard, access_token

log = logging.getLogger(__name__)


class ReviewServer:
    """The review page for one folder. Bound to a loopback address, it needs no token; bound
    anywhere else, ``token`` (or a new one, see ``url``) is required of every request."""

    def __init__(
        self,
        config: ReviewConfig,
        service_factory: ServiceFactory,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.token = access_token(host, token)
        self.app = review_app(config, service_factory, PageGuard(self.token))
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """The address to open: with the token where one is needed (it becomes a cookie there)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        query = f"?{TOKEN_QUERY}={self.token}" if self.token else ""
        return f"http://{host}:{self.port}/{query}"

    async def start(self) -> int:
        """Listen; returns the port (the one the system chose for port 0)."""
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self.host, self.port).start()
        except OSError as exc:
            await self._runner.cleanup()
            self._runner = None
            where = f"{self.host}:{self.port}"
            raise OSError(
                exc.errno, f"cannot serve the review page on {where} ({exc.strerror}); try --port"
            ) from None
        self.port = self._runner.addresses[0][1]
        log.debug("review page on http://%s:%d/", self.host, self.port)
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def serve_forever(self, on_ready: Callable[[ReviewServer], None] | None = None) -> None:
        """Serve until cancelled (Ctrl-C), then stop cleanly; ``on_ready`` once it listens."""
        await self.start()
        if on_ready is not None:
            on_ready(self)
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()
