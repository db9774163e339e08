"""reactclip on Discord, end to end: the real discord.py client and the real cog, against the fake
Discord on 127.0.0.1, driven as a user would."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import discord
import pytest
from discord.ext import commands

from reactclip.bot.discord.cog import ReactCog
from reactclip.bot.discord.guild_store import GuildStore
from reactclip.bot.discord.settings import DiscordSettings
from reactclip.bot.orchestrator import Orchestrator, frame_hooks
from reactclip.bot.settings import Settings
from reactclip.engine.encode import probe_video
from reactclip.engine.executor import InProcessExecutor
from reactclip.moderation.frames import FrameModerator

sys.path.insert(0, str(Path(__file__).parent))
from fakediscord import FakeDiscord, plugin

fake_discord = plugin.fake_discord
pytestmark = pytest.mark.slow


class ClipBot(commands.Bot):
    """A bot of an operator's own with the reactclip cog added, its engine rendering with ``backend``."""

    def __init__(self, text_models: dict[str, Any], backend: Any, db: Path) -> None:
        super().__init__(command_prefix="!", intents=discord.Intents.default(), guild_ready_timeout=0.05)
        self.intents.message_content = True
        frames = FrameModerator()
        executor = InProcessExecutor(lambda name: backend, **frame_hooks(frames))
        settings = Settings()
        self.orchestrator = Orchestrator(
            settings,
            text_models["embedder"],
            text_models["moderator"],
            text_models["emotion"],
            frames,
            executor,
        )
        self.cog_settings = settings
        self.discord_settings = DiscordSettings(cooldown_s=0, guild_db=db)
        self.db = db

    async def setup_hook(self) -> None:
        cog = ReactCog(
            self,
            self.cog_settings,
            discord_settings=self.discord_settings,
            orchestrator=self.orchestrator,
            store=GuildStore(self.db),
        )
        await self.add_cog(cog)


def run(fake: FakeDiscord, bot: commands.Bot, scenario: Callable[[], Awaitable[None]]) -> None:
    async def main() -> None:
        async with fake, fake.connected(bot):
            guild = discord.Object(fake.world.guild.id)
            bot.tree.copy_global_to(guild=guild)
            await bot.tree.sync(guild=guild)
            await scenario()
        assert fake.unexpected == [], [str(call) for call in fake.unexpected]

    asyncio.run(main())


def payload(call: Any) -> dict[str, Any]:
    return call.json if isinstance(call.json, dict) else json.loads(call.json or "{}")


def test_slash_react_defers_then_answers_with_a_playable_clip(
    fake_discord: FakeDiscord, clean_env: Path, text_models: dict[str, Any], recording_backend: Any
) -> None:
    bot = ClipBot(text_models, recording_backend, clean_env / "guilds.sqlite3")

    async def scenario() -> None:
        ref = await fake_discord.slash("react", {"text": "I aced my exam @everyone!!"}, user="alice")
        deferral = await fake_discord.wait_for_callback(ref)
        assert payload(deferral)["type"] == 5  # deferred: Discord's 3-second rule is met at once
        final = await fake_discord.wait_for(
            lambda c: c.method == "PATCH" and c.params.get("token") == ref.token and bool(c.files), timeout=60
        )
        [clip] = final.files
        info = probe_video(clip.data, "mp4")
        assert (info.width, info.height) == (832, 480) and 8 <= info.frames <= 16
        mentions = payload(final)["allowed_mentions"]
        assert mentions["parse"] == [] and mentions.get("roles", []) == []
        assert len(recording_backend.calls) == 1

    run(fake_discord, bot, scenario)


def test_a_refused_prompt_gets_a_polite_refusal_and_no_generation(
    fake_discord: FakeDiscord, clean_env: Path, text_models: dict[str, Any], recording_backend: Any
) -> None:
    bot = ClipBot(text_models, recording_backend, clean_env / "guilds.sqlite3")

    async def scenario() -> None:
        ref = await fake_discord.slash("react", {"text": "k y s loser nobody likes you"}, user="alice")
        await fake_discord.wait_for_callback(ref)
        answer = await fake_discord.wait_for(
            lambda c: (
                c.params.get("token") == ref.token
                and c.method in ("POST", "PATCH")
                and "can't" in str(c.json)
            ),
            timeout=30,
        )
        assert "Traceback" not in str(answer.json)
        assert recording_backend.calls == []

    run(fake_discord, bot, scenario)


def test_a_dm_gets_a_clip_in_the_dm_channel(
    fake_discord: FakeDiscord, clean_env: Path, text_models: dict[str, Any], recording_backend: Any
) -> None:
    bot = ClipBot(text_models, recording_backend, clean_env / "guilds.sqlite3")

    async def scenario() -> None:
        message = await fake_discord.dm("we won the finals!!", user="alice")
        channel_id = int(message["channel_id"])
        call = await fake_discord.wait_for(lambda c: str(channel_id) in c.path and bool(c.files), timeout=60)
        assert probe_video(call.files[0].data, "mp4").frames >= 8
        assert len(recording_backend.calls) == 1

    run(fake_discord, bot, scenario)


def test_delete_button_is_for_the_requester_or_a_moderator_only(
    fake_discord: FakeDiscord, clean_env: Path, text_models: dict[str, Any], recording_backend: Any
) -> None:
    bot = ClipBot(text_models, recording_backend, clean_env / "guilds.sqlite3")

    async def scenario() -> None:
        ref = await fake_discord.slash("react", {"text": "what a game, gg everyone"}, user="mod")
        final = await fake_discord.wait_for(
            lambda c: c.method == "PATCH" and c.params.get("token") == ref.token and bool(c.files), timeout=60
        )
        buttons = [b for row in payload(final)["components"] for b in row["components"]]
        [delete] = [b["custom_id"] for b in buttons if b["custom_id"].startswith("reactclip:delete:")]
        message_id = int(final.response["id"])

        refused = await fake_discord.click(message_id, delete, user="alice")
        answer = payload(await fake_discord.wait_for_callback(refused))
        assert answer["type"] == 4 and answer["data"]["flags"] & 64  # an ephemeral reply, nothing deleted
        assert message_id in fake_discord.messages

        allowed = await fake_discord.click(message_id, delete, user="mod")
        await fake_discord.wait_for_callback(allowed)
        deleted = await fake_discord.wait_for(lambda c: c.method == "DELETE", timeout=10)
        assert str(message_id) in deleted.path or deleted.params.get("message_id") == "@original"

    run(fake_discord, bot, scenario)
