"""What the entry points ask of a Discord message or channel: whether it calls on the bot, the
message it replies to, and the ids a channel switch applies to."""

from __future__ import annotations

from typing import Any

import discord


def mentions_bot(message: discord.Message, bot_id: int) -> bool:
    """Whether ``message`` calls on the bot: a mention in its text or, for a voice message (which
    has no text), a reply to the bot that pings it."""
    if bot_id in message.raw_mentions:
        return True
    return message.flags.voice and any(user.id == bot_id for user in message.mentions)


def channel_ids(channel: Any) -> tuple[int | None, ...]:
    """A channel's id and, for a thread, its parent's (a thread follows its channel's switch)."""
    return (getattr(channel, "id", None), getattr(channel, "parent_id", None))


async def referenced(message: discord.Message) -> discord.Message | None:
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
