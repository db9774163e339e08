"""The one path every Discord entry point takes once it knows what to react to: the limits (the
channel switch, the user's cooldown, remakes waiting it out), the Request built from where it came
from and the guild's settings, its events shown in the one message the reply owns, and the clip
posted with its buttons and kept for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import discord

from reactclip.bot.discord.attachments import read_voice_message
from reactclip.bot.discord.context import request_origin
from reactclip.bot.discord.errors import NOT_ENABLED_HERE, NOTHING_TO_REACT_TO, TOO_LARGE, NotAllowed
from reactclip.bot.discord.guild_settings import GuildSettings
from reactclip.bot.discord.guild_store import GuildStore, PostedClip
from reactclip.bot.discord.limits import Cooldown, LimitReached
from reactclip.bot.discord.messages import channel_ids
from reactclip.bot.discord.progress import EditThrottle
from reactclip.bot.discord.replies import InteractionReply, Reply, attachment, header_for, show_events
from reactclip.bot.discord.settings import DiscordSettings
from reactclip.bot.discord.views import ClipView
from reactclip.bot.metrics import count_outcome, timed_stage
from reactclip.bot.request import Entry, Options, Quality, Request
from reactclip.bot.service import ReactionService
from reactclip.engine.executor import Busy
from reactclip.engine.request_id import REQUEST_ID

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClipOptions:
    """What the requester chose; None falls back to the guild's, then the operator's default."""

    style: str | None = None
    frames: int | None = None
    seed: int | None = None
    quality: Quality = "normal"
    remember: bool = True
    """Keep the text for the Regenerate and Another style buttons. Off for voice: what someone said
    is used for this one request and not kept (the clip then has no remake buttons)."""
    entry: Entry = "slash"


class Answerer:
    """Answers requests in Discord through the ReactionService ``service()`` returns, with the
    guild settings and clip records of ``store()``."""

    def __init__(
        self,
        discord_settings: DiscordSettings,
        service: Callable[[], ReactionService],
        store: Callable[[], GuildStore],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.discord_settings = discord_settings
        self._service = service
        self._store = store
        self._clock = clock
        self.cooldown = Cooldown(discord_settings.cooldown_s, clock)
        self._waiting_remakes: set[int] = set()
        """Users whose remake is waiting out their cooldown."""

    def _guild_settings(self, guild_id: int | None) -> GuildSettings:
        return self._store().settings_for(guild_id)

    async def make_clip(
        self, reply: Reply, what: str | discord.Attachment, channel: Any, options: ClipOptions
    ) -> None:
        """Limits, then the request through the ReactionService, its events shown in the one
        message ``reply`` owns, ending with the clip and its buttons. ``what`` is the text, or a
        voice message's recording, downloaded once the limits let it through (so a flood of
        recordings costs nothing). Raises the typed errors for the caller's handler."""
        requester = reply.requester
        guild: discord.Guild | None = getattr(channel, "guild", None)
        # A partial channel (not cached) still knows its guild's id.
        guild_id: int | None = getattr(channel, "guild_id", None) or (guild.id if guild else None)
        guild_settings = self._guild_settings(guild_id)
        if guild_id is not None and not guild_settings.channel_enabled(*channel_ids(channel)):
            raise NotAllowed(NOT_ENABLED_HERE)
        if isinstance(what, str) and not what.strip():
            raise NotAllowed(NOTHING_TO_REACT_TO)
        service = self._service()
        try:
            await self._take_turn(reply, requester.id, wait=options.entry == "button")
        except LimitReached:
            count_outcome(options.entry, "cooldown")
            raise
        said = what if isinstance(what, str) else await self._recording(what)
        request = Request(
            said,
            request_origin(options.entry, channel, requester.id, guild_settings.policy),
            Options(
                style=options.style or guild_settings.default_style,
                frames=options.frames or guild_settings.default_frames,
                seed=options.seed,
                quality=options.quality,
                mascot=guild_settings.mascot,
                preview_after_s=self._preview_after(guild_settings),
            ),
        )
        REQUEST_ID.set(request.id)  # this interaction's or message's own task: its log lines name it
        throttle = EditThrottle(self.discord_settings.progress_interval_s, self._clock)
        try:
            async with contextlib.aclosing(service.handle(request)) as events:
                finished, text = await show_events(reply, request, events, throttle)
        except Busy:
            self.cooldown.forget(requester.id)  # nothing was made; "try again in N s" must hold
            raise
        clip = finished.clip
        # The engine encodes under its upload limit (the one setting for it); a guild's own
        # limit is never below Discord's default, but a partial guild's is unknown until here.
        if isinstance(guild, discord.Guild) and clip.size_bytes > guild.filesize_limit:
            raise NotAllowed(TOO_LARGE)
        request_id = request.id
        kept_text = text if options.remember else ""
        self._store().save_request(
            PostedClip(
                request_id,
                requester.id,
                guild_id,
                kept_text,
                request.options.style or clip.spec.style,
                request.options.frames,
                clip.variant,
            )
        )
        notes = [clip.spec.style, f"{clip.frames} frames"]
        if clip.degraded:
            notes.append("smaller than usual: the queue is busy")
        if finished.note:
            notes.append(finished.note)
        ephemeral = isinstance(reply, InteractionReply) and reply.ephemeral
        log.info(
            "clip sent guild=%s user=%s seed=%s cache_hit=%s",
            guild_id,
            request.origin.user_hash,
            clip.spec.seed,
            clip.cache_hit,
        )
        with timed_stage("upload"):
            await reply.show(
                f"{header_for(text, request.is_audio)}\n-# {' · '.join(notes)}",
                attachments=[attachment(clip)],
                view=ClipView(request_id, deletable=not ephemeral, remakeable=options.remember),
            )

    async def _take_turn(self, reply: Reply, user_id: int, *, wait: bool) -> None:
        """The user's cooldown. A new request inside it is turned down ("slow down"); a remake of
        a clip they already have (a button) waits it out instead, saying how long, one remake per
        person at a time."""
        retry_s = self.cooldown.retry_after(user_id)
        if retry_s > 0 and wait:
            if user_id in self._waiting_remakes:
                raise LimitReached("one remake at a time, please: the last one starts in a moment")
            self._waiting_remakes.add(user_id)
            try:
                await reply.show(f"-# your remake starts in {math.ceil(retry_s)} s")
                await asyncio.sleep(retry_s)
            finally:
                self._waiting_remakes.discard(user_id)
        self.cooldown.hit(user_id)

    async def _recording(self, recording: discord.Attachment) -> bytes:
        """A voice message's audio, downloaded after the checks that need no download."""
        listener = self._service().listener
        return await read_voice_message(
            recording, listener.settings, self.discord_settings.attachment_origins
        )

    def _preview_after(self, guild_settings: GuildSettings) -> float | None:
        """A sticker first when the operator and the guild want one, for clips expected later
        than ``instant_after_s`` (the service decides from the executor's estimate)."""
        if not (self.discord_settings.instant_sticker and guild_settings.instant_preview):
            return None
        return self.discord_settings.instant_after_s
