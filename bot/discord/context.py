"""Where a Discord request comes from, as the moderation policy sees it: the channel's NSFW flag (a
thread inherits its parent's; DMs and anything unknown count as not NSFW) and the guild's policy."""

from __future__ import annotations

from typing import Any

import discord

from reactclip.bot.request import Entry, Origin, hash_user
from reactclip.moderation.context import GuildPolicy


def is_private(channel: Any) -> bool:
    """A DM or group DM (or an interaction's channel with no guild)."""
    if isinstance(channel, discord.abc.PrivateChannel):
        return True
    return getattr(channel, "guild", None) is None and getattr(channel, "type", None) in (
        discord.ChannelType.private,
        discord.ChannelType.group,
    )


def is_nsfw_channel(channel: Any) -> bool:
    """The channel's NSFW flag. Threads ask their parent (discord.py's ``Thread.is_nsfw``); a parent
    that is not cached, a partial channel or a DM reads as not NSFW: unknown fails closed."""
    if channel is None or is_private(channel):
        return False
    if isinstance(channel, discord.Thread):
        parent = channel.parent
        return parent is not None and bool(parent.is_nsfw())
    check = getattr(channel, "is_nsfw", None)
    return bool(check()) if callable(check) else False


def request_origin(entry: Entry, channel: Any, user_id: int, policy: GuildPolicy | None = None) -> Origin:
    """The Origin of a request from ``user_id`` in ``channel`` under the guild's ``policy`` (None:
    the defaults, as in a DM)."""
    private = channel is None or is_private(channel)
    guild = getattr(channel, "guild", None)
    guild_id: int | None = getattr(channel, "guild_id", None) or getattr(guild, "id", None)
    return Origin(
        entry,
        hash_user(user_id),
        guild_id=None if private else guild_id,
        channel_id=getattr(channel, "id", None),
        nsfw_channel=not private and is_nsfw_channel(channel),
        dm=private,
        policy=GuildPolicy() if private or policy is None else policy,
    )
