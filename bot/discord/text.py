"""User text at the edge: what goes back into chat is escaped (no markdown, no pings), and every
send or edit may ping the requester only."""

from __future__ import annotations

import re

import discord

MAX_QUOTE_CHARS = 200


def escape_user_text(text: str) -> str:
    """Markdown and mentions (@everyone, @here, users, roles) made inert."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def quote_user_text(text: str, limit: int = MAX_QUOTE_CHARS) -> str:
    """One escaped line of the request, shortened to ``limit`` characters before escaping."""
    line = " ".join(text.split())
    if len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return escape_user_text(line)


def allowed_mentions(requester: discord.abc.Snowflake | None) -> discord.AllowedMentions:
    """Nobody but the requester can be pinged by what the bot sends."""
    users = [requester] if requester is not None else False
    return discord.AllowedMentions(everyone=False, roles=False, users=users, replied_user=True)


def strip_mention(content: str, user_id: int) -> str:
    """A message's text without the mentions of ``user_id`` (``<@id>`` and ``<@!id>``)."""
    return " ".join(re.sub(rf"<@!?{user_id}>", " ", content).split())
