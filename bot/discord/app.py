"""The standalone bot: ``build_bot`` for ``reactclip run`` and ``reactclip sync``. Inside someone
else's bot, ``await bot.load_extension("reactclip.bot")`` is all it takes instead."""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

import discord
from discord.ext import commands

from reactclip.bot import setup as setup_extension
from reactclip.bot.errors import ConfigurationError
from reactclip.bot.metrics import watch_loop_lag
from reactclip.bot.monitoring import Check, MonitoringServer, redis_check
from reactclip.bot.settings import Settings
from reactclip.engine.executor import Executor
from reactclip.engine.metrics import ExecutorCollector

log = logging.getLogger(__name__)


class MissingToken(ConfigurationError):
    def __init__(self) -> None:
        super().__init__(
            "no Discord token: set REACTCLIP_DISCORD__TOKEN or [discord] token in the config file"
        )


def intents() -> discord.Intents:
    """The fewest intents that work.

    - ``guilds``: the channel and thread cache, which tells a channel's NSFW flag (and a thread's
      parent) and the guild's upload limit.
    - ``guild_messages`` and ``dm_messages``: the message events for @mentions and DMs.
    - ``message_content`` (privileged): needed only for @mentions and DMs, the two entry points that
      read text from gateway messages; slash commands, the message menu and buttons carry their own
      data. Discord already sends the text of DMs to the bot and of messages that mention it, so in
      practice the intent is for one case: "@reactclip" in a reply, which reacts to the replied-to
      message, someone else's text. Drop the intent and that case finds no text (the bot says so).
    - ``voice_states``: who is in which voice channel, for ``/reactclip listen`` (the member's
      channel) and for the voice connection itself.
    """
    chosen = discord.Intents.none()
    chosen.guilds = True
    chosen.voice_states = True
    chosen.guild_messages = True
    chosen.dm_messages = True
    chosen.message_content = True
    return chosen


class ReactBot(commands.Bot):
    """A bot with no prefix commands: every message goes to ReactCog's listener, never to the prefix
    command parser (which would log "command not found" for each mention)."""

    def __init__(self, settings: Settings, *, load_models: bool = True, **options: Any) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned, intents=intents(), help_command=None, **options
        )
        self.reactclip_settings = settings
        """Read by ``reactclip.bot.setup``, so the extension uses these settings, not a fresh read."""
        self.reactclip_load_models = load_models
        self._monitoring: MonitoringServer | None = None
        self._lag_watch: asyncio.Task[None] | None = None

    async def setup_hook(self) -> None:
        # What load_extension(EXTENSION) would run, called directly: discord.py unloads extensions
        # on close and drops their modules from sys.modules, so a process that goes on afterwards
        # (the tests, a program embedding this bot) would import every reactclip.bot module afresh
        # and its errors and settings would no longer be the classes its callers hold.
        await setup_extension(self)
        self._lag_watch = asyncio.create_task(watch_loop_lag(), name="reactclip-loop-lag")
        settings = self.reactclip_settings
        if settings.monitoring.bot_port:
            self._monitoring = self._monitoring_server(settings)
            await self._monitoring.start()

    def _monitoring_server(self, settings: Settings) -> MonitoringServer:
        """/ready: the text models loaded, the gateway connected, Redis reachable where used."""
        from reactclip.bot.discord.reactions import ReactCog

        cog = self.get_cog(ReactCog.__cog_name__)
        assert isinstance(cog, ReactCog)

        def executor() -> Executor | None:
            return cog.service.executor() if cog.service is not None else None

        checks: dict[str, Check] = {
            "models": lambda: cog.service is not None,
            "gateway": lambda: self.is_ready() and not self.is_closed() and math.isfinite(self.latency),
            **redis_check(settings.engine),
        }
        collector = ExecutorCollector(executor, settings.engine.cache.store)
        return MonitoringServer(settings.monitoring.host, settings.monitoring.bot_port, checks, (collector,))

    async def close(self) -> None:
        if self._monitoring is not None:
            await self._monitoring.stop()
        if self._lag_watch is not None:
            self._lag_watch.cancel()
        await super().close()

    async def on_message(self, message: discord.Message, /) -> None:
        return None


def build_bot(settings: Settings, *, load_models: bool = True, **options: Any) -> commands.Bot:
    """The bot, its extension loaded on login. ``load_models=False`` skips the text models (for
    syncing commands)."""
    return ReactBot(settings, load_models=load_models, **options)


def _token(settings: Settings) -> str:
    token = settings.discord.token
    if token is None or not token.get_secret_value().strip():
        raise MissingToken()
    return token.get_secret_value()


def run_bot(settings: Settings) -> None:
    """Connect and serve until interrupted (Ctrl-C closes the cog, draining queued clips)."""
    token = _token(settings)
    bot = build_bot(settings)
    # log_handler=None: keep reactclip's own logging set-up; discord.py never logs the token.
    bot.run(token, log_handler=None)


async def sync_commands_async(settings: Settings, guild_id: int | None = None) -> list[str]:
    """Register the application commands with Discord; returns their names. To one guild (instant,
    for testing: ``guild_id`` or ``sync_guild``) or globally (can take up to an hour to show)."""
    token = _token(settings)
    guild_id = guild_id if guild_id is not None else settings.discord.sync_guild
    async with build_bot(settings, load_models=False) as bot:
        await bot.login(token)  # runs setup_hook: the extension adds its commands to the tree
        if guild_id is not None:
            guild = discord.Object(id=guild_id)
            bot.tree.copy_global_to(guild=guild)
            synced = await bot.tree.sync(guild=guild)
        else:
            synced = await bot.tree.sync()
    log.info("synced %d commands to %s", len(synced), f"guild {guild_id}" if guild_id else "every guild")
    return [command.name for command in synced]


def sync_commands(settings: Settings, guild_id: int | None = None) -> list[str]:
    """``sync_commands_async`` for the CLI."""
    return asyncio.run(sync_commands_async(settings, guild_id))
