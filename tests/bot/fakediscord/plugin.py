"""The pytest fixture that points the real discord.py at a FakeDiscord for one test.

Everything patched is here, undone by ``monkeypatch`` at the end of the test:

- ``discord.http.Route.BASE`` -> ``fake.api_base`` (``http://127.0.0.1:PORT/api/v10``). Every REST call goes
  through ``Route``, the interaction callbacks and webhook follow-ups of ``discord.webhook.async_`` too.
- ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` -> ``fake.gateway_url``. ``Client.connect`` never
  asks ``GET /gateway``; it starts from this constant (only ``AutoShardedClient`` asks ``/gateway/bot``,
  which the fake answers with the same URL). READY's ``resume_gateway_url`` points at the fake as well.
- ``discord.asset.Asset.BASE`` -> ``fake.url``, so an avatar or other CDN fetch reaches the fake (and
  shows in ``fake.unexpected``) instead of the network.

Attachment URLs are absolute URLs of the fake, so ``Attachment.read()`` needs no patch.
"""

from __future__ import annotations

from collections.abc import Iterator

import discord.asset
import discord.gateway
import discord.http
import pytest
import yarl

from .server import FakeDiscord


def point_discord_py_at(fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url))
    monkeypatch.setattr(discord.asset.Asset, "BASE", fake.url)


@pytest.fixture
def fake_discord(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDiscord]:
    """A FakeDiscord with the default world, bound to a free port, with discord.py pointed at it.
    Serve it inside the test's event loop: ``async with fake_discord, fake_discord.connected(bot): ...``."""
    fake = FakeDiscord()
    point_discord_py_at(fake, monkeypatch)
    yield fake
    fake.release()
