"""ServerCog: the /reactclip commands of a server: voice listening (listen, stop), the clip
service's status, and the guild's settings (show, set, channel, reset). It works on what ReactCog
owns (the service, the guild store, voice listening), so it is added with it (``add_cogs``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from reactclip.bot.discord.errors import NOT_ENABLED_HERE, NotAllowed
from reactclip.bot.discord.guild_store import GuildSettingError, GuildSettings
from reactclip.bot.discord.listen import permission_name, voice_mode_line
from reactclip.bot.discord.messages import channel_ids
from reactclip.bot.discord.reactions import STYLE_CHOICES, ReactCog
from reactclip.bot.discord.replies import report_error, respond
from reactclip.bot.discord.text import quote_user_text
from reactclip.bot.request import Origin, hash_user
from reactclip.engine.spec import MAX_FRAMES, MIN_FRAMES
from reactclip.speech.wake import MAX_WAKE_PHRASE_CHARS, VOICE_MODES

STRICTNESS_CHOICES = [app_commands.Choice(name=s, value=s) for s in ("standard", "strict")]
VOICE_MODE_CHOICES = [app_commands.Choice(name=m, value=m) for m in VOICE_MODES]
LISTEN_PERMISSION_CHOICES = [
    app_commands.Choice(name=permission_name(flag), value=flag)
    for flag in (
        "move_members",
        "mute_members",
        "deafen_members",
        "manage_channels",
        "manage_guild",
        "connect",
    )
]


async def add_cogs(bot: commands.Bot, core: ReactCog) -> None:
    """Add ReactCog and the /reactclip commands that work on it."""
    await bot.add_cog(core)
    await bot.add_cog(ServerCog(core))


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
            describe_settings(self.core.guild_settings(interaction.guild_id)),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @settings_group.command(name="set", description="Change reactclip's settings for this server")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.describe(
        default_style="The style when a request names none",
        default_frames=f"The frame count when a request names none ({MIN_FRAMES}-{MAX_FRAMES})",
        mascot="Who reacts when a message names no subject ('default' resets it)",
        strictness="strict blocks on weaker evidence; never looser than standard",
        allow_nsfw_channels="Allow adult content in channels Discord marks NSFW",
        voice_triggers="Allow /reactclip listen: clips of what is said in a voice channel",
        voice_mode="In voice: 'wake' reacts to what starts with the wake phrase, 'every' to everything",
        wake_phrase="The words that start a request in voice (default: reaction)",
        listen_permission="The permission a member needs to start or stop listening",
        instant_preview="Post a quick sticker while a slow clip is made, then replace it",
        voice_messages="Answer every voice message in the enabled channels, not only those sent to the bot",
    )
    @app_commands.choices(
        default_style=STYLE_CHOICES,
        strictness=STRICTNESS_CHOICES,
        voice_mode=VOICE_MODE_CHOICES,
        listen_permission=LISTEN_PERMISSION_CHOICES,
    )
    async def settings_set(
        self,
        interaction: discord.Interaction,
        default_style: str | None = None,
        default_frames: app_commands.Range[int, MIN_FRAMES, MAX_FRAMES] | None = None,
        mascot: app_commands.Range[str, 1, 60] | None = None,
        strictness: str | None = None,
        allow_nsfw_channels: bool | None = None,
        voice_triggers: bool | None = None,
        voice_mode: str | None = None,
        wake_phrase: app_commands.Range[str, 1, MAX_WAKE_PHRASE_CHARS] | None = None,
        listen_permission: str | None = None,
        instant_preview: bool | None = None,
        voice_messages: bool | None = None,
    ) -> None:
        guild_id = _guild_id(interaction)
        changes: dict[str, Any] = {
            name: value
            for name, value in (
                ("default_style", default_style),
                ("default_frames", default_frames),
                ("strictness", strictness),
                ("allow_nsfw_channels", allow_nsfw_channels),
                ("voice_triggers", voice_triggers),
                ("voice_mode", voice_mode),
                ("wake_phrase", wake_phrase),
                ("listen_permission", listen_permission),
                ("instant_preview", instant_preview),
                ("voice_messages", voice_messages),
            )
            if value is not None
        }
        if mascot is not None:
            await interaction.response.defer(ephemeral=True, thinking=True)
            changes["mascot"] = await self._checked_mascot(mascot, guild_id)
        updated = self.core.guild_store().set(guild_id, **changes)
        await respond(interaction, "saved.\n" + describe_settings(updated))

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
        await respond(interaction, "saved.\n" + describe_settings(updated))

    @settings_group.command(name="reset", description="Put every reactclip setting back to its default")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def settings_reset(self, interaction: discord.Interaction) -> None:
        updated = self.core.guild_store().reset(_guild_id(interaction))
        await respond(interaction, "reset.\n" + describe_settings(updated))

    async def _checked_mascot(self, mascot: str, guild_id: int) -> str | None:
        """The mascot to store (None for 'default'), after the same text moderation as a request."""
        if mascot.strip().lower() in ("default", "none", "reset"):
            return None
        origin = Origin("slash", hash_user(guild_id), policy=self.core.guild_settings(guild_id).policy)
        analysis = await asyncio.to_thread(self.core.running_service().analyze, mascot, origin.context)
        if not analysis.verdict.allowed:
            raise GuildSettingError(f"that mascot can't be used: {analysis.verdict.reason}")
        return mascot


def describe_settings(settings: GuildSettings) -> str:
    channels = ", ".join(f"<#{cid}>" for cid in settings.enabled_channels) or "every channel"
    mascot = quote_user_text(settings.mascot) if settings.mascot else "the default"
    return "\n".join(
        [
            f"channels: {channels}",
            f"default style: {settings.default_style or 'the default'}",
            f"default frames: {settings.default_frames or 'the default'}",
            f"mascot: {mascot}",
            f"moderation: {settings.strictness}",
            f"adult content in NSFW channels: {'allowed' if settings.allow_nsfw_channels else 'off'}",
            f"voice triggers: {'on' if settings.voice_triggers else 'off'}",
            f"in voice: {voice_mode_line(settings)}",
            f"who may start listening: members with {permission_name(settings.listen_permission)}",
            f"instant sticker while a clip is made: {'on' if settings.instant_preview else 'off'}",
            f"every voice message: {'on (rate-limited)' if settings.voice_messages else 'off'}",
        ]
    )


def _guild_id(interaction: discord.Interaction) -> int:
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    return interaction.guild_id
