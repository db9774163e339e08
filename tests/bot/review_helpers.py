"""What the review page's tests share: a small real batch (sticker clips made by the real service,
moderation included), the review server on a free port (in the test's own event loop, or in a
thread of its own for a browser), and the CSRF token of its page."""

from __future__ import annotations

import asyncio
import re
import shutil
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from test_service import service

from reactclip.bot.batch import drafts_of, read_batch, run_batch, write_manifest
from reactclip.bot.review.app import ReviewConfig
from reactclip.bot.review.server import ReviewServer
from reactclip.bot.service import ReactionService
from reactclip.engine.backends.sticker import StickerBackend

TEXTS = (
    "I aced my exam!",
    "we won the finals!!",
    "the cat knocked my coffee over",
    "k.y.s nobody wants you here",
)
"""Three drafts with clips and one refused by moderation (ids by CSV line: the header is line 1)."""
DONE = ("0002-1", "0003-1", "0004-1")
REFUSED = "0005-1"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([0-9a-f]+)">')


def sticker_service(text_models: dict[str, Any]) -> ReactionService:
    """The real service (text and frame moderation) drawing with the sticker renderer, uncached, so
    that a new seed is a new clip."""
    return service(text_models, StickerBackend())


def make_batch(text_models: dict[str, Any], out: Path, texts: tuple[str, ...] = TEXTS) -> Path:
    """What ``reactclip batch`` writes for ``texts`` (8-frame drafts), through bot/batch.py."""
    source = out.parent / f"{out.name}.csv"
    source.write_text("text,frames\n" + "".join(f"{text},8\n" for text in texts), encoding="utf-8")
    lines, problems = read_batch(source)
    drafts = drafts_of(lines)
    (out / "clips").mkdir(parents=True)
    service = sticker_service(text_models)

    async def make_all() -> None:
        try:
            await run_batch(service, drafts, out)
        finally:
            await service.aclose()

    asyncio.run(make_all())
    write_manifest(out, source, drafts, problems)
    return out


@pytest.fixture(scope="module")
def batch_template(tmp_path_factory: pytest.TempPathFactory, text_models: dict[str, Any]) -> Path:
    return make_batch(text_models, tmp_path_factory.mktemp("batch") / "drafts")


@pytest.fixture
def batch(batch_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the module's batch: each test decides and remakes on its own."""
    return Path(shutil.copytree(batch_template, tmp_path / "drafts"))


def client(base: str, **headers: str) -> aiohttp.ClientSession:
    """A client that keeps the page's cookies (on an IP address, which aiohttp's jar refuses by
    default) and sends ``headers`` with every request."""
    return aiohttp.ClientSession(base_url=base, cookie_jar=aiohttp.CookieJar(unsafe=True), headers=headers)


@asynccontextmanager
async def serving(
    folder: Path,
    text_models: dict[str, Any],
    *,
    token: str | None = None,
    reviewer: str | None = "Ana",
    webhook_url: str | None = None,
) -> AsyncIterator[tuple[ReviewServer, aiohttp.ClientSession]]:
    """The review server on 127.0.0.1 in this loop, and a client whose requests come from its page
    (Origin) unless a test says otherwise."""
    config = ReviewConfig(folder, reviewer=reviewer, webhook_url=webhook_url)
    server = ReviewServer(config, lambda: sticker_service(text_models), token=token)
    port = await server.start()
    base = f"http://127.0.0.1:{port}"
    try:
        async with client(base, Origin=base) as http:
            yield server, http
    finally:
        await server.stop()


async def csrf_of(http: aiohttp.ClientSession) -> str:
    """The CSRF token of the page as this client's session sees it (its first GET starts one)."""
    async with http.get("/") as response:
        assert response.status == 200, await response.text()
        found = CSRF_META.search(await response.text())
    assert found is not None
    return found.group(1)


@contextmanager
def serving_in_a_thread(config: ReviewConfig, text_models: dict[str, Any]) -> Iterator[ReviewServer]:
    """The review server on a free port, in a thread with its own event loop (for a browser, whose
    driver blocks this one)."""
    server = ReviewServer(config, lambda: sticker_service(text_models))
    loop = asyncio.new_event_loop()
    started = threading.Event()
    problems: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(server.start())
        except BaseException as exc:
            problems.append(exc)
            return
        finally:
            started.set()
        loop.run_forever()
        loop.run_until_complete(server.stop())
        loop.close()

    thread = threading.Thread(target=run, name="review-server", daemon=True)
    thread.start()
    started.wait(30)
    if problems:
        raise problems[0]
    try:
        yield server
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
