"""The one message a request is answered with, whatever the entry point: created by ``show``,
edited in place by later calls (progress, the preview, the clip), or replaced by one polite line
(``fail``). Nothing sent here can ping anyone but the requester.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import AsyncIterator
from typing import Any

import discord

from reactclip.bot.discord.errors import describe_discord, log_outcome
from reactclip.bot.discord.progress import EditThrottle, ProgressMessage
from reactclip.bot.discord.text import allowed_mentions, quote_user_text
from reactclip.bot.events import Analysed, Event, Failed, Finished, Heard, PreviewReady, Progress, Refusal
from reactclip.bot.request import Request
from reactclip.engine.clip import Clip

log = logging.getLogger(__name__)

READY_LINE = "getting ready"
PREVIEW_LINE = "a quick sticker for now; the clip replaces it when it is ready"


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


async def report_error(interaction: discord.Interaction, error: BaseException) -> None:
    """A command's error: logged as what it was, and told to the person in one private line."""
    log_outcome(error, interaction.guild_id, interaction.user.id)
    await send_error(interaction, describe_discord(error))


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


async def respond(interaction: discord.Interaction, content: str) -> None:
    """An ephemeral answer to a command, or an edit of the deferred one."""
    mentions = discord.AllowedMentions.none()
    if interaction.response.is_done():
        await interaction.edit_original_response(content=content, allowed_mentions=mentions)
    else:
        await interaction.response.send_message(content, ephemeral=True, allowed_mentions=mentions)


async def show_events(
    reply: Reply, request: Request, events: AsyncIterator[Event], throttle: EditThrottle
) -> tuple[Finished, str]:
    """A request's events in the one message ``reply`` owns: ready, progress lines (throttled),
    the sticker preview, each an edit in place. Returns the Finished event (the clip, its note) and
    the text it answers (heard, for speech); raises the error that ended the request, for the
    caller's handler. The final edit (the clip with its buttons) is the caller's."""
    text = request.said if isinstance(request.said, str) else ""
    progress: ProgressMessage | None = None

    def render(line: str) -> str:
        return f"{header_for(text, request.is_audio)}\n-# {line}"

    try:
        async for event in events:
            if isinstance(event, Heard):
                text = event.text
            elif isinstance(event, Analysed):
                await reply.show(render(READY_LINE))
                progress = ProgressMessage(reply.show, render, throttle).start(shown=READY_LINE)
            elif isinstance(event, Progress) and progress is not None:
                progress.update(event.event)
            elif isinstance(event, PreviewReady):
                await reply.show(render(PREVIEW_LINE), attachments=[attachment(event.clip)])
            elif isinstance(event, Finished):
                return event, text
            elif isinstance(event, Refusal | Failed):
                raise event.error
    finally:
        if progress is not None:
            await progress.finish()
    raise RuntimeError("the request ended without an answer")


def header_for(text: str, heard: bool) -> str:
    """The quoted words a clip answers, marked as heard for speech."""
    return f"> {'🎤 ' if heard else ''}{quote_user_text(text)}"


def attachment(clip: Clip) -> discord.File:
    return discord.File(io.BytesIO(clip.data), filename=clip.filename)
