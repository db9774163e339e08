"""ReactCog: every Discord entry point (``/react``, the "React with a clip" message menu, DMs and
@mentions, the buttons under a clip) turned into one call of the orchestrator, answered with one
message that shows progress and ends with the clip. When the clip will take a while, that message
shows the request's sticker version first, replaced in place by the clip (``StickerFirst``).

Errors are typed inside and become one short, polite line here (``describe_discord``): ephemeral
for interactions, a reply for messages. Nothing the bot sends can ping anyone but the requester, and
user text shown back is escaped.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from reactclip.bot.discord.attachments import read_voice_message, voice_attachment
from reactclip.bot.discord.context import is_private, request_context
from reactclip.bot.discord.errors import (
    NOT_ENABLED_HERE,
    NOTHING_TO_REACT_TO,
    TOO_LARGE,
    NotAllowed,
    describe_discord,
    unwrap,
)
from reactclip.bot.discord.guild_store import (
    DEFAULTS,
    ClipRequest,
    GuildSettingError,
    GuildSettings,
    GuildStore,
)
from reactclip.bot.discord.limits import Cooldown, GuildConcurrency, LimitReached
from reactclip.bot.discord.listen import (
    Connect,
    VoiceListening,
    connect_voice,
    permission_name,
    voice_mode_line,
)
from reactclip.bot.discord.progress import EditThrottle, ProgressMessage
from reactclip.bot.discord.settings import DiscordSettings
from reactclip.bot.discord.text import allowed_mentions, quote_user_text, strip_mention
from reactclip.bot.discord.views import COG_NAME, Action, ClipButton, ClipView, new_request_id
from reactclip.bot.orchestrator import PREVIEW_BACKEND, Orchestrator, SpecRequest, hash_user
from reactclip.bot.refusals import Refused
from reactclip.bot.settings import Settings
from reactclip.engine.clip import Clip
from reactclip.engine.executor import Busy
from reactclip.engine.prompting import load_templates
from reactclip.engine.spec import MAX_SEED, GenerationSpec
from reactclip.moderation.context import RequestContext
from reactclip.speech.errors import AudioError, NotUnderstood
from reactclip.speech.wake import MAX_WAKE_PHRASE_CHARS, VOICE_MODES

log = logging.getLogger(__name__)

STYLE_PRESETS: list[str] = list(load_templates()["styles"])
"""The shipped style presets; an operator's templates file may add more (usable by default style)."""
STYLE_CHOICES = [app_commands.Choice(name=style, value=style) for style in STYLE_PRESETS[:25]]
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
READY_LINE = "getting ready"
PREVIEW_LINE = "a quick sticker for now; the clip replaces it when it is ready"
UNASKED_QUIET = (NotUnderstood, AudioError, LimitReached, NotAllowed, Busy)
"""Failures not worth a word when nobody asked (a guild reacting to every voice message)."""


@dataclass(frozen=True)
class ClipOptions:
    """What the requester chose; None falls back to the guild's, then the operator's default."""

    style: str | None = None
    frames: int | None = None
    seed: int | None = None
    remember: bool = True
    """Keep the text for the Regenerate and Another style buttons. Off for voice: what someone said
    is used for this one request and not kept (the clip then has no remake buttons)."""


def spec_request(style: str | None, frames: int | None, seed: int | None, mascot: str | None) -> SpecRequest:
    """The orchestrator's SpecRequest, with the guild's mascot (None: the operator's)."""
    fields: dict[str, Any] = {"frames": frames} if frames is not None else {}
    return SpecRequest(style=style, seed=seed, mascot=mascot, fields=fields)


class StickerFirst:
    """The sticker version of a request, shown while its real clip is made. ``settle`` (before the
    final edit, or the error line) drops a preview still being drawn and waits for one already on
    its way, so a preview never lands over the clip. A preview that fails is skipped: only the
    real clip matters."""

    def __init__(
        self,
        draw: Callable[[GenerationSpec], Awaitable[Clip]],
        show: Callable[[Clip], Awaitable[None]],
    ) -> None:
        self._draw = draw
        self._show = show
        self._task: asyncio.Task[None] | None = None
        self._sending = False
        self._settled = False

    def start(self, spec: GenerationSpec) -> None:
        if self._task is None and not self._settled:
            self._task = asyncio.get_running_loop().create_task(self._run(spec))

    async def _run(self, spec: GenerationSpec) -> None:
        try:
            sticker = await self._draw(spec)
            if self._settled:
                return
            self._sending = True
            await self._show(sticker)
        except Exception as exc:
            log.info("no preview: %s: %s", type(exc).__name__, exc)

    async def settle(self) -> None:
        self._settled = True
        task = self._task
        if task is None or task.done():
            return
        if not self._sending:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class Reply:
    """The one message a request is answered with: created by ``show``, edited by later calls."""

    def __init__(self, requester: discord.abc.User) -> None:
        self.requester = requester
        self.mentions = allowed_mentions(requester)

    async def show(self, content: str, **kwargs: Any) -> None:
        raise NotImplementedError

    async def fail(self, line: str) -> None:
        raise NotImplementedError


class InteractionReply(Reply):
    """Answers an interaction: defer at once (Discord's 3 s rule), then edit the original response."""

    def __init__(self, interaction: discord.Interaction, *, ephemeral: bool = False) -> None:
        super().__init__(interaction.user)
        self.interaction = interaction
        self.ephemeral = ephemeral

    async def defer(self) -> None:
        if not self.interaction.response.is_done():
            await self.interaction.response.defer(thinking=True, ephemeral=self.ephemeral)

    async def show(self, content: str, **kwargs: Any) -> None:
        await self.interaction.edit_original_response(
            content=content, allowed_mentions=self.mentions, **kwargs
        )

    async def fail(self, line: str) -> None:
        await send_error(self.interaction, line)


class PostedReply(Reply):
    """Answers with a message the bot posts (``post``), then edits that message."""

    def __init__(self, requester: discord.abc.User) -> None:
        super().__init__(requester)
        self.sent: discord.Message | None = None

    async def post(self, content: str, **kwargs: Any) -> discord.Message:
        raise NotImplementedError

    async def show(self, content: str, **kwargs: Any) -> None:
        if self.sent is None:
            kwargs.pop("attachments", None)
            self.sent = await self.post(content, allowed_mentions=self.mentions, **kwargs)
        else:
            self.sent = await self.sent.edit(content=content, allowed_mentions=self.mentions, **kwargs)

    async def fail(self, line: str) -> None:
        if self.sent is None:
            await self.post(line, allowed_mentions=self.mentions)
        else:
            await self.sent.edit(content=line, attachments=[], view=None, allowed_mentions=self.mentions)


class MessageReply(PostedReply):
    """Answers a message (DM or @mention) with a reply, then edits that reply."""

    def __init__(self, message: discord.Message) -> None:
        super().__init__(message.author)
        self.message = message

    async def post(self, content: str, **kwargs: Any) -> discord.Message:
        return await self.message.reply(content, **kwargs)


class VoiceReply(PostedReply):
    """Answers what a member said in voice: a message in the linked text channel that mentions
    them (and only them), then edits of it."""

    def __init__(self, speaker: discord.Member, channel: discord.abc.Messageable) -> None:
        super().__init__(speaker)
        self.channel = channel

    async def post(self, content: str, **kwargs: Any) -> discord.Message:
        return await self.channel.send(content, **kwargs)

    async def show(self, content: str, **kwargs: Any) -> None:
        await super().show(f"{self.requester.mention} {content}", **kwargs)

    async def fail(self, line: str) -> None:
        await super().fail(f"{self.requester.mention} {line}")


async def send_error(interaction: discord.Interaction, line: str) -> None:
    """``line`` to the person only (ephemeral). A public "thinking..." placeholder is removed first,
    so a refusal never stays in the channel."""
    mentions = discord.AllowedMentions.none()
    try:
        if not interaction.response.is_done():
            await interaction.response.send_message(line, ephemeral=True, allowed_mentions=mentions)
            return
        message = await interaction.original_response()
        if message.flags.ephemeral:
            await interaction.edit_original_response(
                content=line, attachments=[], view=None, allowed_mentions=mentions
            )
            return
        with contextlib.suppress(discord.HTTPException):
            await interaction.delete_original_response()
        await interaction.followup.send(line, ephemeral=True, allowed_mentions=mentions)
    except discord.HTTPException as exc:  # the interaction expired or was deleted; nothing to tell
        log.info("could not send an error line: %s", exc)


class ReactCog(commands.Cog, name=COG_NAME):
    """Reaction clips on Discord. ``orchestrator`` and ``store`` are built in ``cog_load`` unless
    given (tests give them)."""

    # Offered to everyone: /reactclip listen is for whoever holds the guild's listen_permission, so
    # settings and status check Manage Server themselves (Discord's default_permissions would apply
    # to the whole group).
    reactclip = app_commands.Group(
        name="reactclip", description="reactclip's voice listening, settings and status", guild_only=True
    )
    settings_group = app_commands.Group(
        name="settings", description="View or change reactclip's settings here", parent=reactclip
    )

    def __init__(
        self,
        bot: commands.Bot,
        settings: Settings,
        *,
        discord_settings: DiscordSettings | None = None,
        orchestrator: Orchestrator | None = None,
        store: GuildStore | None = None,
        load_models: bool = True,
        clock: Callable[[], float] = time.monotonic,
        voice_connect: Connect = connect_voice,
    ) -> None:
        self.bot = bot
        self.settings = settings
        self.discord_settings: DiscordSettings = (
            discord_settings or getattr(settings, "discord", None) or DiscordSettings()
        )
        self.orchestrator = orchestrator
        self._owns_orchestrator = orchestrator is None
        self._load_models = load_models
        self.store = store
        self._owns_store = store is None
        self.cooldown = Cooldown(self.discord_settings.cooldown_s, clock)
        self.voice_message_rate = Cooldown(self.discord_settings.voice_message_interval_s, clock)
        """Per channel, for guilds that react to every voice message."""
        self.concurrency = GuildConcurrency(self.discord_settings.guild_concurrency)
        self._clock = clock
        self.started_at = clock()
        self.ctx_menu = app_commands.ContextMenu(name="React with a clip", callback=self.react_to_message)
        self.ctx_menu.on_error = self._context_menu_error
        self.voice = VoiceListening(
            self.voice_request,
            lambda: self._orchestrator().listener.transcriber(),
            min_confidence=lambda: self._orchestrator().listener.settings.min_confidence,
            connect=voice_connect,
            empty_leave_s=self.discord_settings.voice_empty_leave_s,
        )

    # Lifecycle ----------------------------------------------------------------------------------

    async def cog_load(self) -> None:
        if self.store is None:
            self.store = GuildStore(
                self.discord_settings.guild_db, request_ttl_s=self.discord_settings.request_ttl_s
            )
        if self.orchestrator is None and self._load_models:
            # Loading the text models takes seconds; keep the event loop (and the gateway) alive.
            self.orchestrator = await asyncio.to_thread(Orchestrator.from_settings, self.settings)
        self.bot.tree.add_command(self.ctx_menu)
        self.bot.add_dynamic_items(ClipButton)
        self.started_at = self._clock()

    async def cog_unload(self) -> None:
        await self.voice.close()
        self.bot.tree.remove_command(self.ctx_menu.name, type=self.ctx_menu.type)
        self.bot.remove_dynamic_items(ClipButton)
        if self.orchestrator is not None and self._owns_orchestrator:
            await self.orchestrator.aclose()
            self.orchestrator = None
        if self.store is not None and self._owns_store:
            self.store.close()
            self.store = None

    # Errors -------------------------------------------------------------------------------------

    async def cog_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        self._log_error(error, interaction.guild_id, interaction.user.id)
        await send_error(interaction, describe_discord(error))

    async def _context_menu_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        await self.cog_app_command_error(interaction, error)

    @staticmethod
    def _log_error(error: BaseException, guild_id: int | None, user_id: int) -> None:
        exc = unwrap(error)
        where = f"guild={guild_id} user={hash_user(user_id)}"
        if isinstance(exc, Refused):
            log.info("refused (%s) %s", exc.category, where)
        elif isinstance(
            exc, LimitReached | NotAllowed | GuildSettingError | Busy | app_commands.CheckFailure
        ):
            log.info("turned down %s: %s", where, exc)
        else:
            log.warning("request failed %s", where, exc_info=exc)

    # Entry points -------------------------------------------------------------------------------

    @app_commands.command(name="react", description="Answer a message with a short reaction clip")
    @app_commands.describe(
        text="What to react to, e.g. 'I aced my exam!'",
        style="The look of the clip",
        frames="How many frames (8-16)",
        private="Only you see the clip",
    )
    @app_commands.choices(style=STYLE_CHOICES)
    async def react(
        self,
        interaction: discord.Interaction,
        text: app_commands.Range[str, 1, 500],
        style: str | None = None,
        frames: app_commands.Range[int, 8, 16] | None = None,
        private: bool = False,
    ) -> None:
        reply = InteractionReply(interaction, ephemeral=private)
        await reply.defer()
        await self.make_clip(reply, text, interaction.channel, ClipOptions(style=style, frames=frames))

    async def react_to_message(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """The "React with a clip" message menu. The target's text comes with the interaction, so
        this needs no message-content intent. On a voice message, it reacts to what was said."""
        recording = voice_attachment(message)
        if recording is None and not message.content.strip():
            await interaction.response.send_message(NOTHING_TO_REACT_TO, ephemeral=True)
            return
        reply = InteractionReply(interaction)
        await reply.defer()
        await self.make_clip(reply, recording or message.content, interaction.channel, ClipOptions())

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        me = self.bot.user
        if message.author.bot or me is None or message.author.id == me.id:
            return
        unasked = False
        if message.guild is None:
            if not self.discord_settings.dms or not is_private(message.channel):
                return
            target: discord.Message | None = message
            text = message.content
        else:
            mentioned = _mentions_bot(message, me.id)
            if not (mentioned or message.flags.voice):
                return
            guild_settings = self._guild_settings(message.guild.id)
            if not guild_settings.channel_enabled(*_channel_ids(message.channel)):
                return
            if mentioned:
                text = strip_mention(message.content, me.id)
                target = message if text or message.flags.voice else await _referenced(message)
                if target is not None and not text:
                    text = target.content
            elif guild_settings.voice_messages and self._voice_message_due(message.channel.id):
                target, text, unasked = message, "", True
            else:
                return
        reply = MessageReply(message)
        try:
            # A voice message (this one, or the one a mention replies to) is heard, then goes the same way.
            recording = voice_attachment(target) if target is not None else None
            await self.make_clip(reply, recording or text, message.channel, ClipOptions())
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
            await self.make_clip(reply, text, channel, ClipOptions(remember=False))
        except Exception as exc:
            await self._fail(reply, exc, speaker.guild.id, quiet=(LimitReached,) if asked else UNASKED_QUIET)

    async def _fail(
        self, reply: Reply, exc: Exception, guild_id: int | None, *, quiet: tuple[type[Exception], ...] = ()
    ) -> None:
        """Log ``exc``; unless it is one of ``quiet``, tell the requester in one line."""
        self._log_error(exc, guild_id, reply.requester.id)
        if isinstance(exc, quiet):
            return
        with contextlib.suppress(discord.HTTPException):
            await reply.fail(describe_discord(exc))

    async def on_clip_button(self, interaction: discord.Interaction, action: Action, request_id: str) -> None:
        """A button under a clip (see views.py)."""
        try:
            await self._clip_button(interaction, action, request_id)
        except Exception as exc:
            self._log_error(exc, interaction.guild_id, interaction.user.id)
            await send_error(interaction, describe_discord(exc))

    async def _clip_button(self, interaction: discord.Interaction, action: Action, request_id: str) -> None:
        store = self._store()
        message = interaction.message
        if action in ("up", "down"):
            if message is not None:
                store.record_feedback(message.id, hash_user(interaction.user.id), 1 if action == "up" else -1)
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
        options = ClipOptions(style=style, frames=request.frames, seed=secrets.randbelow(MAX_SEED + 1))
        await self.make_clip(reply, request.text, interaction.channel, options)

    # The one path -------------------------------------------------------------------------------

    async def make_clip(
        self, reply: Reply, what: str | discord.Attachment, channel: Any, options: ClipOptions
    ) -> None:
        """Limits, context, generation with progress, then the clip with its buttons, all in the
        one message ``reply`` owns. ``what`` is the text, or a voice message's recording, heard
        once the limits let it through (so a flood of recordings costs no decoding) and then taken
        as its text. Raises the typed errors for the caller's handler."""
        requester = reply.requester
        guild: discord.Guild | None = getattr(channel, "guild", None)
        # A partial channel (not cached) still knows its guild's id.
        guild_id: int | None = getattr(channel, "guild_id", None) or (guild.id if guild else None)
        guild_settings = self._guild_settings(guild_id)
        if guild_id is not None and not guild_settings.channel_enabled(*_channel_ids(channel)):
            raise NotAllowed(NOT_ENABLED_HERE)
        if isinstance(what, str) and not what.strip():
            raise NotAllowed(NOTHING_TO_REACT_TO)
        orchestrator = self._orchestrator()
        with self.concurrency.slot(guild_id):
            self.cooldown.hit(requester.id)
            text = what if isinstance(what, str) else await self._hear(what)
            context = request_context(channel, requester.id, guild_settings.policy)
            style = options.style or guild_settings.default_style
            frames = options.frames or guild_settings.default_frames
            header = f"> {'' if isinstance(what, str) else '🎤 '}{quote_user_text(text)}"

            def render(line: str) -> str:
                return f"{header}\n-# {line}"

            await reply.show(render(READY_LINE))
            throttle = EditThrottle(self.discord_settings.progress_interval_s, self._clock)
            progress = ProgressMessage(reply.show, render, throttle).start(shown=READY_LINE)
            preview = StickerFirst(
                lambda spec: orchestrator.preview(spec),
                lambda sticker: self._show_preview(reply, render, sticker),
            )

            def on_spec(spec: GenerationSpec) -> None:
                # The text passed moderation; decide before this request joins the queue.
                if self._preview_wanted(guild_settings):
                    preview.start(spec)

            try:
                clip = await orchestrator.generate(
                    text,
                    context,
                    spec_request(style, frames, options.seed, guild_settings.mascot),
                    guild=str(guild_id) if guild_id is not None else None,
                    user=context.user_hash,
                    on_event=progress.update,
                    on_spec=on_spec,
                )
            except Busy:
                self.cooldown.forget(requester.id)  # nothing was made; "try again in N s" must hold
                raise
            finally:
                await preview.settle()
                await progress.finish()
        limit = self.discord_settings.max_attachment_bytes
        if isinstance(guild, discord.Guild):
            limit = min(limit, guild.filesize_limit)
        if clip.size_bytes > limit:
            raise NotAllowed(TOO_LARGE)
        request_id = new_request_id()
        kept_text = text if options.remember else ""
        self._store().save_request(
            ClipRequest(request_id, requester.id, guild_id, kept_text, style or clip.spec.style, frames)
        )
        notes = [clip.spec.style, f"{clip.frames} frames"]
        if clip.degraded:
            notes.append("smaller than usual: the queue is busy")
        ephemeral = isinstance(reply, InteractionReply) and reply.ephemeral
        log.info(
            "clip sent guild=%s user=%s seed=%s cache_hit=%s",
            guild_id,
            context.user_hash,
            clip.spec.seed,
            clip.cache_hit,
        )
        await reply.show(
            f"{header}\n-# {' · '.join(notes)}",
            attachments=[discord.File(io.BytesIO(clip.data), filename=clip.filename)],
            view=ClipView(request_id, deletable=not ephemeral, remakeable=options.remember),
        )

    async def _hear(self, recording: discord.Attachment) -> str:
        """The words of a voice message: downloaded (after the checks that need no download),
        decoded and recognised in a thread by the orchestrator."""
        orchestrator = self._orchestrator()
        origins = self.discord_settings.attachment_origins
        audio = await read_voice_message(recording, orchestrator.listener.settings, origins)
        return await orchestrator.hear(audio)

    def _preview_wanted(self, guild_settings: GuildSettings) -> bool:
        """Whether to post a sticker first: on for the operator and the guild, the engine not
        drawing stickers already, and the clip expected later than ``instant_after_s`` (or unknown,
        as before the first clip). See ``Orchestrator.expected_wait_s`` for the estimate."""
        if not (self.discord_settings.instant_sticker and guild_settings.instant_preview):
            return False
        orchestrator = self._orchestrator()
        if orchestrator.backend_in_use() == PREVIEW_BACKEND:
            return False
        wait = orchestrator.expected_wait_s()
        return wait is None or wait > self.discord_settings.instant_after_s

    async def _show_preview(self, reply: Reply, render: Callable[[str], str], sticker: Clip) -> None:
        await reply.show(
            render(PREVIEW_LINE),
            attachments=[discord.File(io.BytesIO(sticker.data), filename=sticker.filename)],
        )

    # /reactclip ---------------------------------------------------------------------------------

    @reactclip.command(name="listen", description="Join your voice channel and make clips of what is said")
    async def listen(self, interaction: discord.Interaction) -> None:
        guild_id = _guild_id(interaction)
        if not self._guild_settings(guild_id).channel_enabled(*_channel_ids(interaction.channel)):
            raise NotAllowed(NOT_ENABLED_HERE)  # where the clips would be posted
        await self.voice.listen(interaction, lambda: self._guild_settings(guild_id))

    @reactclip.command(name="stop", description="Stop listening in the voice channel")
    async def stop_listening(self, interaction: discord.Interaction) -> None:
        await self.voice.stop(interaction, self._guild_settings(_guild_id(interaction)))

    @reactclip.command(name="status", description="Queue, load, backend and cache of the clip service")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def status(self, interaction: discord.Interaction) -> None:
        stats = self._orchestrator().executor().stats()
        hits = stats.counters.get("cache_hits", 0)
        misses = stats.counters.get("cache_misses", 0)
        ratio = f"{hits / (hits + misses):.0%}" if hits + misses else "n/a"
        uptime = int(self._clock() - self.started_at)
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
            describe_settings(self._guild_settings(interaction.guild_id)),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @settings_group.command(name="set", description="Change reactclip's settings for this server")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.describe(
        default_style="The style when a request names none",
        default_frames="The frame count when a request names none (8-16)",
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
        default_frames: app_commands.Range[int, 8, 16] | None = None,
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
        updated = self._store().set(guild_id, **changes)
        await _respond(interaction, "saved.\n" + describe_settings(updated))

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
        current = set(self._guild_settings(guild_id).enabled_channels)
        current = current | {channel.id} if enabled else current - {channel.id}
        updated = self._store().set(guild_id, enabled_channels=tuple(current))
        await _respond(interaction, "saved.\n" + describe_settings(updated))

    @settings_group.command(name="reset", description="Put every reactclip setting back to its default")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def settings_reset(self, interaction: discord.Interaction) -> None:
        updated = self._store().reset(_guild_id(interaction))
        await _respond(interaction, "reset.\n" + describe_settings(updated))

    # Helpers ------------------------------------------------------------------------------------

    async def _checked_mascot(self, mascot: str, guild_id: int) -> str | None:
        """The mascot to store (None for 'default'), after the same text moderation as a request."""
        if mascot.strip().lower() in ("default", "none", "reset"):
            return None
        context = RequestContext(guild=self._guild_settings(guild_id).policy)
        analysis = await asyncio.to_thread(self._orchestrator().analyze, mascot, context)
        if not analysis.verdict.allowed:
            raise GuildSettingError(f"that mascot can't be used: {analysis.verdict.reason}")
        return mascot

    def _next_style(self, current: str | None, guild_id: int | None) -> str:
        presets = list(load_templates(self.settings.engine.prompting.templates)["styles"])
        style = (
            current or self._guild_settings(guild_id).default_style or self.settings.engine.prompting.style
        )
        index = presets.index(style) if style in presets else -1
        return presets[(index + 1) % len(presets)]

    def _guild_settings(self, guild_id: int | None) -> GuildSettings:
        return DEFAULTS if guild_id is None else self._store().get(guild_id)

    def _store(self) -> GuildStore:
        if self.store is None:
            raise NotAllowed("reactclip is starting; please try again in a minute")
        return self.store

    def _orchestrator(self) -> Orchestrator:
        if self.orchestrator is None:
            raise NotAllowed("reactclip is starting; please try again in a minute")
        return self.orchestrator


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


def _mentions_bot(message: discord.Message, bot_id: int) -> bool:
    """Whether ``message`` calls on the bot: a mention in its text or, for a voice message (which
    has no text), a reply to the bot that pings it."""
    if bot_id in message.raw_mentions:
        return True
    return message.flags.voice and any(user.id == bot_id for user in message.mentions)


def _channel_ids(channel: Any) -> tuple[int | None, ...]:
    """A channel's id and, for a thread, its parent's (a thread follows its channel's switch)."""
    return (getattr(channel, "id", None), getattr(channel, "parent_id", None))


async def _respond(interaction: discord.Interaction, content: str) -> None:
    mentions = discord.AllowedMentions.none()
    if interaction.response.is_done():
        await interaction.edit_original_response(content=content, allowed_mentions=mentions)
    else:
        await interaction.response.send_message(content, ephemeral=True, allowed_mentions=mentions)


async def _referenced(message: discord.Message) -> discord.Message | None:
    """The message ``message`` replies to, if it still exists."""
    reference = message.reference
    if reference is None or reference.message_id is None:
        return None
    if isinstance(reference.resolved, discord.Message):
        return reference.resolved
    try:
        return await message.channel.fetch_message(reference.message_id)
    except discord.HTTPException:
        return None
