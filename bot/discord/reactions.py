"""ReactCog: every Discord entry point that asks for a clip (``/react``, the "React with a clip"
message menu, DMs and @mentions, voice messages, what is said in a voice channel, the buttons under a
clip), each handed to the one path (answering.py: a ``Request`` for the ReactionService, its events
shown in one message: progress, a sticker first when the clip will take a while, then the clip).

Errors are typed inside and become one short, polite line here (``describe_discord``): ephemeral
for interactions, a reply for messages. The /reactclip commands (voice listening, settings, status)
live in server.py; this cog owns what they share (the service, the guild store, voice listening).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable

import discord
from discord import app_commands
from discord.ext import commands

from reactclip.bot.discord.answering import Answerer, ClipOptions
from reactclip.bot.discord.attachments import voice_attachment
from reactclip.bot.discord.context import is_private
from reactclip.bot.discord.errors import (
    NOTHING_TO_REACT_TO,
    NotAllowed,
    describe_discord,
    log_outcome,
)
from reactclip.bot.discord.guild_settings import GuildSettings
from reactclip.bot.discord.guild_store import GuildStore
from reactclip.bot.discord.limits import Cooldown, LimitReached
from reactclip.bot.discord.listen import Connect, VoiceListening, connect_voice
from reactclip.bot.discord.messages import channel_ids, mentions_bot, referenced
from reactclip.bot.discord.replies import (
    InteractionReply,
    MessageReply,
    Reply,
    VoiceReply,
    report_error,
)
from reactclip.bot.discord.settings import DiscordSettings
from reactclip.bot.discord.text import strip_mention
from reactclip.bot.discord.views import COG_NAME, Action, ClipButton
from reactclip.bot.metrics import count_vote
from reactclip.bot.request import MAX_TEXT_CHARS, Entry, Quality, hash_user
from reactclip.bot.service import ReactionService
from reactclip.bot.settings import Settings
from reactclip.engine.executor import Busy
from reactclip.engine.prompting import load_templates
from reactclip.engine.spec import MAX_FRAMES, MAX_SEED, MIN_FRAMES
from reactclip.speech.errors import AudioError, NotUnderstood

log = logging.getLogger(__name__)

MAX_CHOICES = 25
"""Discord shows at most 25 choices for an option."""
UNASKED_QUIET = (NotUnderstood, AudioError, LimitReached, NotAllowed, Busy)
"""Failures not worth a word when nobody asked (a guild reacting to every voice message)."""


class ReactCog(commands.Cog, name=COG_NAME):
    """Reaction clips on Discord. ``service`` and ``store`` are built in ``cog_load`` unless given
    (tests give them)."""

    def __init__(
        self,
        bot: commands.Bot,
        settings: Settings,
        *,
        discord_settings: DiscordSettings | None = None,
        service: ReactionService | None = None,
        store: GuildStore | None = None,
        load_models: bool = True,
        clock: Callable[[], float] = time.monotonic,
        voice_connect: Connect = connect_voice,
    ) -> None:
        self.bot = bot
        self.settings = settings
        self.discord_settings: DiscordSettings = discord_settings or settings.discord
        self.service = service
        self._owns_service = service is None
        self._load_models = load_models
        self.store = store
        self._owns_store = store is None
        self.answer = Answerer(self.discord_settings, self.running_service, self.guild_store, clock)
        """The one path every entry point here takes."""
        self.voice_message_rate = Cooldown(self.discord_settings.voice_message_interval_s, clock)
        """Per channel, for guilds that react to every voice message."""
        self.clock = clock
        self.started_at = clock()
        self.ctx_menu = app_commands.ContextMenu(name="React with a clip", callback=self.react_to_message)
        self.ctx_menu.on_error = self._context_menu_error
        self.voice = VoiceListening(
            self.voice_request,
            lambda: self.running_service().listener.transcriber(),
            min_confidence=lambda: self.running_service().listener.settings.min_confidence,
            connect=voice_connect,
            empty_leave_s=self.discord_settings.voice_empty_leave_s,
        )

    # Lifecycle ----------------------------------------------------------------------------------

    async def cog_load(self) -> None:
        if self.store is None:
            self.store = GuildStore(
                self.discord_settings.guild_db, request_ttl_s=self.discord_settings.request_ttl_s
            )
        if self.service is None and self._load_models:
            # Loading the text models takes seconds; keep the event loop (and the gateway) alive.
            self.service = await asyncio.to_thread(ReactionService.from_settings, self.settings)
        self.bot.tree.add_command(self.ctx_menu)
        self.bot.add_dynamic_items(ClipButton)
        self.started_at = self.clock()

    async def cog_unload(self) -> None:
        await self.voice.close()
        self.bot.tree.remove_command(self.ctx_menu.name, type=self.ctx_menu.type)
        self.bot.remove_dynamic_items(ClipButton)
        if self.service is not None and self._owns_service:
            await self.service.aclose()
            self.service = None
        if self.store is not None and self._owns_store:
            self.store.close()
            self.store = None

    async def cog_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        await report_error(interaction, error)

    async def _context_menu_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        await self.cog_app_command_error(interaction, error)

    # Entry points -------------------------------------------------------------------------------

    @app_commands.command(name="react", description="Answer a message with a short reaction clip")
    @app_commands.describe(
        text="What to react to, e.g. 'I aced my exam!'",
        style="The look of the clip",
        frames=f"How many frames ({MIN_FRAMES}-{MAX_FRAMES})",
        quality="high: a slower, finer preview (more steps, 16 frames) for shaping an idea",
        private="Only you see the clip",
    )
    async def react(
        self,
        interaction: discord.Interaction,
        text: app_commands.Range[str, 1, MAX_TEXT_CHARS],
        style: str | None = None,
        frames: app_commands.Range[int, MIN_FRAMES, MAX_FRAMES] | None = None,
        quality: Quality = "normal",
        private: bool = False,
    ) -> None:
        reply = InteractionReply(interaction, ephemeral=private)
        await reply.defer()
        options = ClipOptions(style=style, frames=frames, quality=quality)
        await self.answer.make_clip(reply, text, interaction.channel, options)

    @react.autocomplete("style")
    async def _react_style(
        self, interaction: discord.Interaction, typed: str
    ) -> list[app_commands.Choice[str]]:
        return self.style_choices(typed)

    async def react_to_message(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """The "React with a clip" message menu. The target's text comes with the interaction, so
        this needs no message-content intent. On a voice message, it reacts to what was said."""
        recording = voice_attachment(message)
        if recording is None and not message.content.strip():
            await interaction.response.send_message(NOTHING_TO_REACT_TO, ephemeral=True)
            return
        reply = InteractionReply(interaction)
        await reply.defer()
        options = ClipOptions(entry="message_menu")
        await self.answer.make_clip(reply, recording or message.content, interaction.channel, options)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        me = self.bot.user
        if message.author.bot or me is None or message.author.id == me.id:
            return
        unasked = False
        entry: Entry = "dm"
        if message.guild is None:
            if not self.discord_settings.dms or not is_private(message.channel):
                return
            target: discord.Message | None = message
            text = message.content
        else:
            mentioned = mentions_bot(message, me.id)
            if not (mentioned or message.flags.voice):
                return
            guild_settings = self.guild_settings(message.guild.id)
            if not guild_settings.channel_enabled(*channel_ids(message.channel)):
                return
            if mentioned:
                entry = "mention"
                text = strip_mention(message.content, me.id)
                target = message if text or message.flags.voice else await referenced(message)
                if target is not None and not text:
                    text = target.content
            elif guild_settings.voice_messages and self._voice_message_due(message.channel.id):
                target, text, unasked, entry = message, "", True, "voice_message"
            else:
                return
        reply = MessageReply(message)
        try:
            # A voice message (this one, or the one a mention replies to) is heard, then goes the same way.
            recording = voice_attachment(target) if target is not None else None
            options = ClipOptions(entry="voice_message" if recording else entry)
            await self.answer.make_clip(reply, recording or text, message.channel, options)
        except Exception as exc:
            guild_id = message.guild.id if message.guild else None
            await self._fail(reply, exc, guild_id, quiet=UNASKED_QUIET if unasked else ())

    def _voice_message_due(self, channel_id: int) -> bool:
        """Whether a guild reacting to every voice message may react in this channel now."""
        try:
            self.voice_message_rate.hit(channel_id)
        except LimitReached:
            return False
        return True

    async def voice_request(
        self, speaker: discord.Member, text: str, channel: discord.abc.Messageable, asked: bool
    ) -> None:
        """What ``speaker`` said in a voice channel, answered in ``channel``. ``asked``: they said
        the wake phrase; otherwise (every utterance) failures nobody asked about stay quiet. A
        request over a limit is never answered: a busy voice channel must not fill the text channel
        with "slow down"."""
        reply = VoiceReply(speaker, channel)
        try:
            await self.answer.make_clip(
                reply, text, channel, ClipOptions(remember=False, entry="voice_channel")
            )
        except Exception as exc:
            await self._fail(reply, exc, speaker.guild.id, quiet=(LimitReached,) if asked else UNASKED_QUIET)

    async def _fail(
        self, reply: Reply, exc: Exception, guild_id: int | None, *, quiet: tuple[type[Exception], ...] = ()
    ) -> None:
        """Log ``exc``; unless it is one of ``quiet``, tell the requester in one line."""
        log_outcome(exc, guild_id, reply.requester.id)
        if isinstance(exc, quiet):
            return
        with contextlib.suppress(discord.HTTPException):
            await reply.fail(describe_discord(exc))

    async def on_clip_button(self, interaction: discord.Interaction, action: Action, request_id: str) -> None:
        """A button under a clip (see views.py)."""
        try:
            await self._clip_button(interaction, action, request_id)
        except Exception as exc:
            await report_error(interaction, exc)

    async def _clip_button(self, interaction: discord.Interaction, action: Action, request_id: str) -> None:
        store = self.guild_store()
        message = interaction.message
        if action in ("up", "down"):
            if message is not None:
                store.record_feedback(message.id, hash_user(interaction.user.id), 1 if action == "up" else -1)
                posted = store.load_request(request_id)
                count_vote(posted.variant if posted is not None else None, action)
            await interaction.response.send_message("thanks for the feedback", ephemeral=True)
            return
        request = store.load_request(request_id)
        if action == "delete":
            may = interaction.permissions.manage_messages or (
                request is not None and request.user_id == interaction.user.id
            )
            if not may:
                raise NotAllowed("only the requester or a moderator can delete this")
            await interaction.response.defer()
            if message is not None and not message.flags.ephemeral:
                await message.delete()
            else:
                await interaction.delete_original_response()
            return
        if request is None:
            raise NotAllowed("this clip is too old to remake; please ask again")
        style = self._next_style(request.style, request.guild_id) if action == "style" else request.style
        ephemeral = message is not None and message.flags.ephemeral
        reply = InteractionReply(interaction, ephemeral=ephemeral)
        await reply.defer()
        seed = secrets.randbelow(MAX_SEED + 1)
        options = ClipOptions(style=style, frames=request.frames, seed=seed, entry="button")
        await self.answer.make_clip(reply, request.text, interaction.channel, options)

    # Shared with the /reactclip commands --------------------------------------------------------

    def style_presets(self) -> list[str]:
        """The styles on offer: the shipped presets and those the operator's templates file adds,
        read when asked (not at import), so an operator's styles are offered too."""
        return list(load_templates(self.settings.engine.prompting.templates)["styles"])

    def style_choices(self, typed: str) -> list[app_commands.Choice[str]]:
        """What a style option's autocomplete offers: the presets holding what was typed, in order."""
        wanted = typed.strip().lower()
        matching = [style for style in self.style_presets() if wanted in style.lower()]
        return [app_commands.Choice(name=style, value=style) for style in matching[:MAX_CHOICES]]

    def _next_style(self, current: str | None, guild_id: int | None) -> str:
        presets = self.style_presets()
        style = current or self.guild_settings(guild_id).default_style or self.settings.engine.prompting.style
        index = presets.index(style) if style in presets else -1
        return presets[(index + 1) % len(presets)]

    def guild_settings(self, guild_id: int | None) -> GuildSettings:
        return self.guild_store().settings_for(guild_id)

    def guild_store(self) -> GuildStore:
        if self.store is None:
            raise NotAllowed("reactclip is starting; please try again in a minute")
        return self.store

    def running_service(self) -> ReactionService:
        if self.service is None:
            raise NotAllowed("reactclip is starting; please try again in a minute")
        return self.service
