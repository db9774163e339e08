"""ServerCog: the /reactclip commands of a server: voice listening (listen, stop), the clip
service's status, and the guild's settings (show, set, channel, reset). It works on what ReactCog
owns (the service, the guild store, voice listening), so it is added with it (``add_cogs``).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Coroutine
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from reactclip.bot.discord.errors import NOT_ENABLED_HERE, NotAllowed
from reactclip.bot.discord.guild_settings import (
    GuildSettingError,
    set_choices,
    set_descriptions,
    set_options,
)
from reactclip.bot.discord.messages import channel_ids
from reactclip.bot.discord.reactions import ReactCog
from reactclip.bot.discord.replies import report_error, respond
from reactclip.bot.discord.text import quote_user_text
from reactclip.bot.request import Origin, hash_user


async def add_cogs(bot: commands.Bot, core: ReactCog) -> None:
    """Add ReactCog and the /reactclip commands that work on it."""
    await bot.add_cog(core)
    await bot.add_cog(ServerCog(core))


def _settings_set_callback() -> Callable[[Any, discord.Interaction], Coroutine[Any, Any, None]]:
    """The ``settings set`` callback, its options read from GuildSettings (guild_settings.py):
    discord.py builds the command from this signature."""

    async def settings_set(self: ServerCog, interaction: discord.Interaction, **changes: Any) -> None:
        await self.save_settings(interaction, changes)

    head = [
        inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        inspect.Parameter(
            "interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction
        ),
    ]
    settings_set.__signature__ = inspect.Signature([*head, *set_options()])  # type: ignore[attr-defined]
    settings_set.__qualname__ = "ServerCog.settings_set"  # a method: discord.py then skips ``self``
    return settings_set


class ServerCog(commands.Cog, name="ReactclipServer"):
    """/reactclip listen, stop, status and settings, on ``core``'s service, store and voice."""

    # Offered to everyone: /reactclip listen is for whoever holds the guild's listen_permission, so
    # settings and status check Manage Server themselves (Discord's default_permissions would apply
    # to the whole group).
    reactclip = app_commands.Group(
        name="reactclip", description="reactclip's voice listening, settings and status", guild_only=True
    )
    settings_group = app_commands.Group(
        name="settings", description="View or change reactclip's settings here", parent=reactclip
    )

    def __init__(self, core: ReactCog) -> None:
        self.core = core

    async def cog_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        await report_error(interaction, error)

    @reactclip.command(name="listen", description="Join your voice channel and make clips of what is said")
    async def listen(self, interaction: discord.Interaction) -> None:
        guild_id = _guild_id(interaction)
        if not self.core.guild_settings(guild_id).channel_enabled(*channel_ids(interaction.channel)):
            raise NotAllowed(NOT_ENABLED_HERE)  # where the clips would be posted
        await self.core.voice.listen(interaction, lambda: self.core.guild_settings(guild_id))

    @reactclip.command(name="stop", description="Stop listening in the voice channel")
    async def stop_listening(self, interaction: discord.Interaction) -> None:
        await self.core.voice.stop(interaction, self.core.guild_settings(_guild_id(interaction)))

    @reactclip.command(name="status", description="Queue, load, backend and cache of the clip service")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def status(self, interaction: discord.Interaction) -> None:
        stats = self.core.running_service().executor().stats()
        hits = stats.counters.get("cache_hits", 0)
        misses = stats.counters.get("cache_misses", 0)
        ratio = f"{hits / (hits + misses):.0%}" if hits + misses else "n/a"
        uptime = int(self.core.clock() - self.core.started_at)
        lines = [
            f"queue: {sum(stats.queued.values())} waiting, {stats.running} running",
            f"load: {stats.load:.0%}",
            f"backend: {stats.backend}",
            f"cache hits: {ratio} ({hits} of {hits + misses})",
            f"uptime: {uptime // 3600} h {uptime % 3600 // 60} min",
        ]
        await interaction.response.send_message("\n".join(lines), ephemeral=True)

    @settings_group.command(name="show", description="Show reactclip's settings for this server")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def settings_show(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            self.core.guild_settings(interaction.guild_id).describe(),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    settings_set: app_commands.Command[Any, ..., None] = settings_group.command(
        name="set", description="Change reactclip's settings for this server"
    )(
        app_commands.checks.has_permissions(manage_guild=True)(
            app_commands.choices(**set_choices())(
                app_commands.describe(**set_descriptions())(_settings_set_callback())
            )
        )
    )

    @settings_set.autocomplete("default_style")
    async def _default_style(
        self, interaction: discord.Interaction, typed: str
    ) -> list[app_commands.Choice[str]]:
        return self.core.style_choices(typed)

    async def save_settings(self, interaction: discord.Interaction, changes: dict[str, Any]) -> None:
        """``settings set``: the options given, checked all or none, then the settings as saved."""
        guild_id = _guild_id(interaction)
        changes = {name: value for name, value in changes.items() if value is not None}
        style = changes.get("default_style")
        if style is not None and style not in (presets := self.core.style_presets()):
            raise GuildSettingError(f"{quote_user_text(style)} is not a style here; try {', '.join(presets)}")
        if "mascot" in changes:
            await interaction.response.defer(ephemeral=True, thinking=True)
            changes["mascot"] = await self._checked_mascot(changes["mascot"], guild_id)
        updated = self.core.guild_store().set(guild_id, **changes)
        await respond(interaction, "saved.\n" + updated.describe())

    @settings_group.command(name="channel", description="Turn reactclip on or off in a channel")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.describe(
        channel="The channel", enabled="On: the bot answers there. With no channel on, it answers everywhere"
    )
    async def settings_channel(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel | discord.Thread | discord.VoiceChannel,
        enabled: bool,
    ) -> None:
        guild_id = _guild_id(interaction)
        current = set(self.core.guild_settings(guild_id).enabled_channels)
        current = current | {channel.id} if enabled else current - {channel.id}
        updated = self.core.guild_store().set(guild_id, enabled_channels=tuple(current))
        await respond(interaction, "saved.\n" + updated.describe())

    @settings_group.command(name="reset", description="Put every reactclip setting back to its default")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def settings_reset(self, interaction: discord.Interaction) -> None:
        updated = self.core.guild_store().reset(_guild_id(interaction))
        await respond(interaction, "reset.\n" + updated.describe())

    async def _checked_mascot(self, mascot: str, guild_id: int) -> str | None:
        """The mascot to store (None for 'default'), after the same text moderation as a request."""
        if mascot.strip().lower() in ("default", "none", "reset"):
            return None
        origin = Origin("slash", hash_user(guild_id), policy=self.core.guild_settings(guild_id).policy)
        analysis = await asyncio.to_thread(self.core.running_service().analyze, mascot, origin.context)
        if not analysis.verdict.allowed:
            raise GuildSettingError(f"that mascot can't be used: {analysis.verdict.reason}")
        return mascot


def _guild_id(interaction: discord.Interaction) -> int:
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    return interaction.guild_id
