"""What the fake Discord knows: users, roles, guilds and channels, and their payloads as Discord sends them.

Payload shapes follow Discord's API v10 (see discord.py's ``discord/types/``); only the fields discord.py
reads are filled in.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DISCORD_EPOCH_MS = 1_420_070_400_000

# Channel types.
TEXT = 0
DM = 1
VOICE = 2
PUBLIC_THREAD = 11

# Permission bits, as Discord documents them (topics/permissions).
ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
USE_EXTERNAL_EMOJIS = 1 << 18
CONNECT = 1 << 20
SPEAK = 1 << 21
MOVE_MEMBERS = 1 << 24
USE_APPLICATION_COMMANDS = 1 << 31
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL_PERMISSIONS = (1 << 53) - 1

MEMBER_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | SEND_MESSAGES_IN_THREADS
    | ADD_REACTIONS
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_EXTERNAL_EMOJIS
    | USE_APPLICATION_COMMANDS
    | CONNECT
    | SPEAK
)


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


class SnowflakeFactory:
    """Ids stamped with the current time, as Discord's are: discord.py derives ``created_at`` from an id,
    and an interaction whose id says it is older than 15 minutes counts as expired."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        stamped = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last = max(stamped, self._last + 1)
        return self._last


@dataclass
class FakeUser:
    id: int
    name: str
    bot: bool = False

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.name,
            "discriminator": "0",
            "global_name": self.name,
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }


@dataclass
class FakeRole:
    id: int
    name: str
    permissions: int
    position: int = 0

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }


@dataclass
class FakeChannel:
    id: int
    name: str
    type: int = TEXT
    guild_id: int | None = None
    nsfw: bool = False
    parent_id: int | None = None
    owner_id: int | None = None
    recipient: FakeUser | None = None
    position: int = 0

    @property
    def is_thread(self) -> bool:
        return self.type in (10, 11, 12)

    def payload(self) -> dict[str, Any]:
        if self.type == DM:
            assert self.recipient is not None
            return {
                "id": str(self.id),
                "type": DM,
                "recipients": [self.recipient.payload()],
                "last_message_id": None,
            }
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "name": self.name,
            "guild_id": str(self.guild_id),
            "position": self.position,
            "parent_id": None if self.parent_id is None else str(self.parent_id),
            "permission_overwrites": [],
            "nsfw": self.nsfw,
            "topic": None,
            "rate_limit_per_user": 0,
            "last_message_id": None,
        }
        if self.type == VOICE:
            data.update(bitrate=64000, user_limit=0, rtc_region=None)
        if self.is_thread:
            data.update(
                owner_id=str(self.owner_id),
                message_count=0,
                member_count=1,
                thread_metadata={
                    "archived": False,
                    "auto_archive_duration": 1440,
                    "archive_timestamp": now_iso(),
                    "locked": False,
                },
            )
        return data


@dataclass
class FakeGuild:
    id: int
    name: str
    owner_id: int
    roles: list[FakeRole]
    channels: list[FakeChannel]
    # user id -> ids of the roles that member holds (besides @everyone, whose id is the guild's id).
    members: dict[int, list[int]] = field(default_factory=dict)
    # user id -> the voice channel that member is in.
    voice_states: dict[int, int] = field(default_factory=dict)

    def role(self, name: str) -> FakeRole:
        return next(role for role in self.roles if role.name == name)

    def permissions_of(self, user_id: int) -> int:
        """Guild-level permissions, as Discord computes them without channel overwrites."""
        if user_id == self.owner_id:
            return ALL_PERMISSIONS
        held = {self.id, *self.members.get(user_id, [])}
        value = 0
        for role in self.roles:
            if role.id in held:
                value |= role.permissions
        return ALL_PERMISSIONS if value & ADMINISTRATOR else value

    def member_payload(self, user: FakeUser | None = None, *, user_id: int | None = None) -> dict[str, Any]:
        """A guild member; with ``user`` it carries the user (GUILD_CREATE, interactions), without it
        it is the partial member a MESSAGE_CREATE carries beside ``author``."""
        member_id = user.id if user is not None else user_id
        assert member_id is not None
        data: dict[str, Any] = {
            "roles": [str(role_id) for role_id in self.members.get(member_id, [])],
            "joined_at": "2024-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "nick": None,
            "avatar": None,
            "premium_since": None,
        }
        if user is not None:
            data["user"] = user.payload()
        return data

    def voice_state_payload(self, user_id: int) -> dict[str, Any]:
        """Where ``user_id`` is in voice (GUILD_CREATE's voice_states, VOICE_STATE_UPDATE)."""
        return {
            "guild_id": str(self.id),
            "channel_id": str(self.voice_states[user_id]) if user_id in self.voice_states else None,
            "user_id": str(user_id),
            "session_id": f"fake-voice-session-{user_id}",
            "deaf": False,
            "mute": False,
            "self_deaf": False,
            "self_mute": False,
            "self_video": False,
            "suppress": False,
            "request_to_speak_timestamp": None,
        }

    def create_payload(self, users: dict[int, FakeUser]) -> dict[str, Any]:
        """The GUILD_CREATE a bot receives after READY."""
        channels = [channel for channel in self.channels if not channel.is_thread]
        threads = [channel for channel in self.channels if channel.is_thread]
        return {
            "id": str(self.id),
            "name": self.name,
            "owner_id": str(self.owner_id),
            "icon": None,
            "unavailable": False,
            "large": False,
            "member_count": len(self.members),
            "joined_at": "2024-01-01T00:00:00+00:00",
            "roles": [role.payload() for role in self.roles],
            "members": [self.member_payload(users[user_id]) for user_id in self.members],
            "channels": [channel.payload() for channel in channels],
            "threads": [channel.payload() for channel in threads],
            "features": [],
            "emojis": [],
            "stickers": [],
            "voice_states": [self.voice_state_payload(user_id) for user_id in self.voice_states],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "preferred_locale": "en-US",
            "premium_tier": 0,
            "nsfw_level": 0,
            "mfa_level": 0,
            "verification_level": 0,
            "explicit_content_filter": 0,
            "default_message_notifications": 0,
            "afk_timeout": 300,
            "system_channel_id": None,
        }


@dataclass
class World:
    """Everything the fake Discord serves. ``bot`` is the bot's user; its application id is its user id,
    as for any bot made in the developer portal."""

    bot: FakeUser
    users: list[FakeUser]
    guilds: list[FakeGuild]
    dm_channels: dict[int, FakeChannel] = field(default_factory=dict)

    @property
    def application_id(self) -> int:
        return self.bot.id

    @property
    def guild(self) -> FakeGuild:
        """The first guild: most tests need only one."""
        return self.guilds[0]

    def user(self, name: str) -> FakeUser:
        try:
            return next(user for user in [self.bot, *self.users] if user.name == name)
        except StopIteration:
            raise KeyError(f"no user named {name!r}; known: {[u.name for u in self.users]}") from None

    def user_by_id(self, user_id: int) -> FakeUser | None:
        return next((user for user in [self.bot, *self.users] if user.id == user_id), None)

    def channel(self, name: str) -> FakeChannel:
        """A guild channel or thread by name, in any guild."""
        for guild in self.guilds:
            for channel in guild.channels:
                if channel.name == name:
                    return channel
        raise KeyError(f"no channel named {name!r}")

    def channel_by_id(self, channel_id: int) -> FakeChannel | None:
        for guild in self.guilds:
            for channel in guild.channels:
                if channel.id == channel_id:
                    return channel
        return next((c for c in self.dm_channels.values() if c.id == channel_id), None)

    def guild_by_id(self, guild_id: int | None) -> FakeGuild | None:
        return next((guild for guild in self.guilds if guild.id == guild_id), None)

    def dm_channel(self, user: FakeUser, ids: SnowflakeFactory) -> FakeChannel:
        """The bot's DM channel with ``user``, opened on first use as Discord does."""
        if user.id not in self.dm_channels:
            self.dm_channels[user.id] = FakeChannel(id=ids.next(), name="", type=DM, recipient=user)
        return self.dm_channels[user.id]


def default_world() -> World:
    """One guild, "Test Guild", with:

    - users ``alice`` (a plain member), ``mod`` (Manage Messages, Manage Server and Move Members through the
      ``Moderator`` role) and ``owner`` (the guild's owner, so every permission);
    - channels ``general`` (nsfw false), ``nsfw`` (nsfw true), the thread ``nsfw-thread``, whose
      parent is ``nsfw``, and the voice channels ``lounge`` and ``studio`` (nobody in them: see
      ``voice_states``);
    - the bot as a member with the ``reactclip`` role (send, attach, embed, react).
    """
    ids = itertools.count(1_200_000_000_000_000_001)
    bot = FakeUser(next(ids), "reactclip", bot=True)
    alice = FakeUser(next(ids), "alice")
    mod = FakeUser(next(ids), "mod")
    owner = FakeUser(next(ids), "owner")
    guild_id = next(ids)
    everyone = FakeRole(guild_id, "@everyone", MEMBER_PERMISSIONS)
    moderator = FakeRole(next(ids), "Moderator", MANAGE_MESSAGES | MANAGE_GUILD | MOVE_MEMBERS, position=2)
    bot_role = FakeRole(next(ids), "reactclip", MEMBER_PERMISSIONS, position=1)
    general = FakeChannel(next(ids), "general", guild_id=guild_id, position=0)
    nsfw = FakeChannel(next(ids), "nsfw", guild_id=guild_id, nsfw=True, position=1)
    nsfw_thread = FakeChannel(
        next(ids), "nsfw-thread", type=PUBLIC_THREAD, guild_id=guild_id, parent_id=nsfw.id, owner_id=alice.id
    )
    lounge = FakeChannel(next(ids), "lounge", type=VOICE, guild_id=guild_id, position=2)
    studio = FakeChannel(next(ids), "studio", type=VOICE, guild_id=guild_id, position=3)
    guild = FakeGuild(
        id=guild_id,
        name="Test Guild",
        owner_id=owner.id,
        roles=[everyone, moderator, bot_role],
        channels=[general, nsfw, nsfw_thread, lounge, studio],
        members={bot.id: [bot_role.id], alice.id: [], mod.id: [moderator.id], owner.id: []},
    )
    return World(bot=bot, users=[alice, mod, owner], guilds=[guild])
