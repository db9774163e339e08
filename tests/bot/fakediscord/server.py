"""A fake Discord on 127.0.0.1: the REST API and the gateway that the real discord.py client talks to.

Tests act as users (``slash``, ``context_menu``, ``click``, ``send_message``, ``dm``) and observe what
the bot did through the recorded REST calls (``calls``, ``wait_for``). Anything the fake does not know
answers 404 and lands in ``unexpected``, so a test can tell a missing route from a bot bug.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import socket
import ssl
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import BodyPartReader, WSMsgType, web

from .world import (
    FakeChannel,
    FakeUser,
    SnowflakeFactory,
    World,
    default_world,
    now_iso,
)

if TYPE_CHECKING:
    import discord

API = "/api/v10"
GATEWAY_PATH = "/gateway"
UNKNOWN_ROUTE = "/{tail:.*}"  # answers 404 and lands the call in ``unexpected``

# Gateway opcodes.
DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE_UPDATE, VOICE_STATE_UPDATE = 0, 1, 2, 3, 4
RESUME, REQUEST_GUILD_MEMBERS = 6, 8
HELLO, HEARTBEAT_ACK = 10, 11

# Gateway intents the fake honours.
GUILD_VOICE_STATES = 1 << 7
GUILD_MESSAGES = 1 << 9
DIRECT_MESSAGES = 1 << 12
MESSAGE_CONTENT = 1 << 15

# Interaction and callback types.
APPLICATION_COMMAND, MESSAGE_COMPONENT, APPLICATION_COMMAND_AUTOCOMPLETE = 2, 3, 4
CHAT_INPUT, MESSAGE_COMMAND = 1, 3
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2  # option types
CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE = 4, 5, 6, 7
AUTOCOMPLETE_RESULT = 8

EPHEMERAL = 1 << 6
LOADING = 1 << 7
IS_VOICE_MESSAGE = 1 << 13

# GATEWAY_GUILD_MEMBERS | GATEWAY_MESSAGE_CONTENT: the portal switches that allow the privileged intents.
APPLICATION_FLAGS = (1 << 14) | (1 << 18)

JSON_HEADERS = {"Content-Type": "application/json"}


class ApiError(Exception):
    """A Discord JSON error (``{"message", "code"}``) with its HTTP status; the middleware answers it."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class UploadedFile:
    """One ``files[n]`` part of a multipart request."""

    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class RestCall:
    """One REST request the bot made, as the fake received it and answered it."""

    method: str
    path: str  # after the API base, e.g. "/channels/12/messages"
    route: str  # the matched template, e.g. "POST /channels/{channel_id}/messages"
    params: dict[str, str]
    query: dict[str, str]
    json: Any  # the JSON body, or the ``payload_json`` part of a multipart body
    files: list[UploadedFile]
    headers: dict[str, str]  # without Authorization
    status: int = 0
    response: Any = None
    claimed: bool = field(default=False, repr=False)

    def __str__(self) -> str:
        files = f" files={[f.filename for f in self.files]}" if self.files else ""
        return f"{self.method} {self.path} -> {self.status}{files}"


CALL = web.RequestKey("call", RestCall)


@dataclass
class InteractionRecord:
    """An interaction the fake sent, and what the bot answered."""

    id: int
    token: str
    type: int
    channel_id: int
    guild_id: int | None
    user: FakeUser
    callback_types: list[int] = field(default_factory=list)
    original_message_id: int | None = None
    followup_message_ids: list[int] = field(default_factory=list)
    component_message_id: int | None = None  # the message whose component was used

    @property
    def acknowledged(self) -> bool:
        return bool(self.callback_types)


@dataclass
class StoredAttachment:
    filename: str
    content_type: str
    data: bytes
    downloads: int = 0
    """How often the bot fetched it (a size check before download shows as 0)."""


class GatewaySession:
    """One websocket connection from the bot. Payloads go out as text frames unless the client asked for
    ``compress=zlib-stream``; then they go out as one zlib stream flushed with Z_SYNC_FLUSH per payload,
    which is what discord.py decompresses. (With ``zstandard`` installed discord.py asks for
    ``zstd-stream``; the fake answers that with text frames, which discord.py accepts as well.)"""

    def __init__(self, ws: web.WebSocketResponse, compress: str | None) -> None:
        self.ws = ws
        self.requested_compression = compress  # the ``compress`` query the client connected with
        self.zlib = zlib.compressobj() if compress == "zlib-stream" else None
        self.sequence = 0
        self.intents = 0
        self.identified = False
        self._lock = asyncio.Lock()

    async def send(self, payload: dict[str, Any]) -> None:
        text = json.dumps(payload)
        async with self._lock:
            if self.zlib is not None:
                data = self.zlib.compress(text.encode()) + self.zlib.flush(zlib.Z_SYNC_FLUSH)
                await self.ws.send_bytes(data)
            else:
                await self.ws.send_str(text)

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        async with self._lock:
            self.sequence += 1
            sequence = self.sequence
        await self.send({"op": DISPATCH, "t": event, "s": sequence, "d": data})


@dataclass(frozen=True)
class VoiceServerInfo:
    """A voice server for the bot to join (see voicelink.py's ``VoiceGateway``)."""

    token: str
    endpoint: str
    """host:port of its voice gateway, which discord.py reaches at wss://{endpoint}/?v=8."""
    trust: ssl.SSLContext
    """A client TLS context that trusts the gateway's certificate."""


class FakeDiscord:
    """The fake Discord. Create it (it binds a port at once, so ``url`` is known before the loop runs),
    point discord.py at it (see ``plugin.point_discord_py_at``), then ``async with fake:`` and
    ``async with fake.connected(bot):``."""

    token = "fake-bot-token.fake.fake"

    def __init__(self, world: World | None = None, *, heartbeat_interval_ms: int = 41_250) -> None:
        self.world = world or default_world()
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.ids = SnowflakeFactory()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_base = self.url + API
        self.gateway_url = f"ws://127.0.0.1:{self.port}{GATEWAY_PATH}"

        self.calls: list[RestCall] = []
        self.unexpected: list[RestCall] = []
        self.identify_payloads: list[dict[str, Any]] = []
        self.presence_updates: list[dict[str, Any]] = []
        # guild id (None for global) -> the commands the bot synced there.
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        self.messages: dict[int, dict[str, Any]] = {}
        self.attachments: dict[int, StoredAttachment] = {}
        self.interactions: dict[str, InteractionRecord] = {}  # by token
        self.sessions: list[GatewaySession] = []
        self.voice_server: VoiceServerInfo | None = None
        """Where a bot that joins voice is sent (VOICE_SERVER_UPDATE); None: nowhere (voicelink.py's
        ``VoiceServer.attach`` then stands in for the voice handshake)."""

        self._calls_changed = asyncio.Condition()
        self._identified = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._interaction_count = 0

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self._runner = web.AppRunner(self._build_app(), shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, self._socket).start()

    async def stop(self) -> None:
        for session in list(self.sessions):
            await session.ws.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.release()

    def release(self) -> None:
        """Close the bound socket; safe to call twice, and needed when ``start`` never ran."""
        self._socket.close()

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @contextlib.asynccontextmanager
    async def connected(
        self, client: discord.Client, *, wait_until_ready: bool = False, timeout: float = 10.0
    ) -> AsyncIterator[discord.Client]:
        """Run ``client.start(token)`` against the fake until every configured guild is in the client's
        cache, yield, then close the client and re-raise anything its task raised.

        ``on_ready`` fires only ``guild_ready_timeout`` (2 s by default) after the last GUILD_CREATE;
        pass ``wait_until_ready=True`` when the test needs it, or build the client with a small
        ``guild_ready_timeout``."""
        if self.voice_server is not None:  # the voice gateway's certificate is the fake's own
            client.http.connector = aiohttp.TCPConnector(limit=0, ssl=self.voice_server.trust)
        task = asyncio.create_task(client.start(self.token), name="fake-discord-client")
        try:
            await self._wait_for_guilds(client, task, timeout)
            if wait_until_ready:
                await asyncio.wait_for(client.wait_until_ready(), timeout)
            yield client
        finally:
            await client.close()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, timeout)

    async def _wait_for_guilds(
        self, client: discord.Client, task: asyncio.Task[None], timeout: float
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        wanted = [guild.id for guild in self.world.guilds]
        while True:
            if task.done():
                task.result()  # raises the client's error (LoginFailure, ...)
                raise AssertionError("the client stopped before it received its guilds")
            guilds = [client.get_guild(guild_id) for guild_id in wanted]
            if all(guild is not None and not guild.unavailable for guild in guilds):
                return
            if loop.time() > deadline:
                raise AssertionError(
                    f"the client did not receive its guilds within {timeout}s; "
                    f"calls: {[str(c) for c in self.calls]}; unexpected: {[str(c) for c in self.unexpected]}"
                )
            await asyncio.sleep(0.01)

    # ------------------------------------------------------------------ observing the bot

    async def wait_for(self, predicate: Callable[[RestCall], bool], timeout: float = 10.0) -> RestCall:
        """The first recorded call matching ``predicate`` that no earlier ``wait_for`` returned, waiting
        up to ``timeout`` seconds for it. Calls made before this was awaited count, so there is no race."""

        async def scan() -> RestCall:
            async with self._calls_changed:
                while True:
                    for call in self.calls:
                        if not call.claimed and predicate(call):
                            call.claimed = True
                            return call
                    await self._calls_changed.wait()

        try:
            return await asyncio.wait_for(scan(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"no REST call matched within {timeout}s; calls: {[str(c) for c in self.calls]}; "
                f"unexpected: {[str(c) for c in self.unexpected]}"
            ) from None

    async def wait_for_callback(self, interaction: InteractionRecord, timeout: float = 10.0) -> RestCall:
        """The bot's next interaction response (POST .../callback) to ``interaction``."""
        return await self.wait_for(
            lambda c: c.route.endswith("/callback") and c.params.get("token") == interaction.token, timeout
        )

    async def wait_for_original_edit(self, interaction: InteractionRecord, timeout: float = 10.0) -> RestCall:
        """The bot's next PATCH of ``interaction``'s original response."""
        return await self.wait_for(
            lambda c: (
                c.method == "PATCH"
                and c.params.get("token") == interaction.token
                and c.params.get("message_id") == "@original"
            ),
            timeout,
        )

    async def wait_for_followup(self, interaction: InteractionRecord, timeout: float = 10.0) -> RestCall:
        """The bot's next follow-up message (POST /webhooks/{app}/{token}) for ``interaction``."""
        return await self.wait_for(
            lambda c: (
                c.route == "POST /webhooks/{application_id}/{token}"
                and c.params.get("token") == interaction.token
            ),
            timeout,
        )

    async def wait_for_channel_message(self, channel_id: int, timeout: float = 10.0) -> RestCall:
        """The bot's next POST /channels/{channel_id}/messages."""
        return await self.wait_for(
            lambda c: (
                c.route == "POST /channels/{channel_id}/messages"
                and c.params.get("channel_id") == str(channel_id)
            ),
            timeout,
        )

    # ------------------------------------------------------------------ acting as users

    async def wait_identified(self, timeout: float = 10.0) -> None:
        await asyncio.wait_for(self._identified.wait(), timeout)

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a gateway DISPATCH to every identified session (waiting for one to exist)."""
        await self.wait_identified()
        for session in self.sessions:
            if session.identified:
                await session.dispatch(event, data)

    def find_command(self, name: str, type: int, guild_id: int | None) -> dict[str, Any]:
        """The synced command Discord would run: the guild's own first, then the global one."""
        for scope in (guild_id, None) if guild_id is not None else (None,):
            for command in self.commands.get(scope, []):
                if command["name"] == name and command.get("type", CHAT_INPUT) == type:
                    return command
        synced = {scope: [c["name"] for c in commands] for scope, commands in self.commands.items()}
        raise LookupError(
            f"no command {name!r} of type {type} synced for guild {guild_id} or globally; "
            f"synced: {synced}. Call tree.sync() first."
        )

    async def slash(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        user: FakeUser | str = "alice",
        channel: FakeChannel | str = "general",
    ) -> InteractionRecord:
        """``user`` runs the synced slash command ``name`` in ``channel`` (a guild channel, a thread, or
        a DM channel from ``world.dm_channel``). ``name`` may name a subcommand as a person types it,
        "group subgroup command": the options then arrive nested under SUB_COMMAND_GROUP and
        SUB_COMMAND options, as Discord sends them. Option types come from the synced command; values
        may be str, int, float, bool, a FakeUser (a user option) or an attachment payload from
        ``attachment``."""
        return await self._run_command(name, options, user, channel)

    async def autocomplete(
        self,
        name: str,
        options: dict[str, Any],
        focused: str,
        *,
        user: FakeUser | str = "alice",
        channel: FakeChannel | str = "general",
    ) -> InteractionRecord:
        """``user`` is typing option ``focused`` of the slash command ``name`` (``options`` hold what
        is typed so far): Discord asks the bot for choices, which come back as the callback's
        ``data["choices"]``."""
        return await self._run_command(name, options, user, channel, focused=focused)

    async def _run_command(
        self,
        name: str,
        options: dict[str, Any] | None,
        user: FakeUser | str,
        channel: FakeChannel | str,
        *,
        focused: str | None = None,
    ) -> InteractionRecord:
        fake_user, fake_channel = self._user(user), self._channel(channel)
        top, *path = name.split()
        command = self.find_command(top, CHAT_INPUT, fake_channel.guild_id)
        self._check_command_available(command, fake_user, fake_channel)
        subcommands: list[dict[str, Any]] = []
        declared_options: list[dict[str, Any]] = command.get("options", [])
        for part in path:
            found = [
                o
                for o in declared_options
                if o["name"] == part and o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)
            ]
            if not found:
                offered = [
                    o["name"] for o in declared_options if o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)
                ]
                raise LookupError(f"{top!r} has no subcommand {part!r} here; it offers {offered}")
            subcommands.append(found[0])
            declared_options = found[0].get("options", [])
        if any(o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP) for o in declared_options):
            raise LookupError(f"Discord runs only a subcommand of {name!r}, not {name!r} itself")
        declared = {option["name"]: option for option in declared_options}
        resolved: dict[str, dict[str, Any]] = {}
        data_options = [
            self._option(key, value, declared.get(key), fake_channel, resolved)
            for key, value in (options or {}).items()
        ]
        if focused is not None and not declared.get(focused, {}).get("autocomplete"):
            raise LookupError(f"Discord autocompletes only options declared so; {focused!r} is not")
        for option in data_options:
            if option["name"] == focused:
                option["focused"] = True
        for sub in reversed(subcommands):
            data_options = [{"name": sub["name"], "type": sub["type"], "options": data_options}]
        data: dict[str, Any] = {
            "id": command["id"],
            "name": top,
            "type": CHAT_INPUT,
            "options": data_options,
        }
        if resolved:
            data["resolved"] = resolved
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        kind = APPLICATION_COMMAND if focused is None else APPLICATION_COMMAND_AUTOCOMPLETE
        return await self._interact(kind, data, fake_user, fake_channel)

    async def context_menu(
        self,
        name: str,
        message: dict[str, Any],
        *,
        user: FakeUser | str = "alice",
    ) -> InteractionRecord:
        """``user`` runs the synced message command ``name`` on ``message`` (a payload from
        ``send_message``, ``dm``, ``message_payload`` or ``messages``), in that message's channel."""
        fake_user = self._user(user)
        fake_channel = self._channel(int(message["channel_id"]))
        command = self.find_command(name, MESSAGE_COMMAND, fake_channel.guild_id)
        self._check_command_available(command, fake_user, fake_channel)
        data: dict[str, Any] = {
            "id": command["id"],
            "name": name,
            "type": MESSAGE_COMMAND,
            "target_id": message["id"],
            "resolved": {"messages": {message["id"]: message}},
        }
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        return await self._interact(APPLICATION_COMMAND, data, fake_user, fake_channel)

    async def click(
        self,
        message_id: int,
        custom_id: str,
        *,
        user: FakeUser | str = "alice",
        values: list[str] | None = None,
    ) -> InteractionRecord:
        """``user`` clicks the button ``custom_id`` (or, with ``values``, picks from the select menu) on a
        message the bot sent."""
        message = self.messages.get(message_id)
        if message is None:
            raise LookupError(f"the bot sent no message {message_id}; sent: {list(self.messages)}")
        if not _has_component(message.get("components", []), custom_id):
            raise LookupError(f"message {message_id} has no component {custom_id!r}")
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": 2 if values is None else 3}
        if values is not None:
            data["values"] = values
        channel = self._channel(int(message["channel_id"]))
        return await self._interact(MESSAGE_COMPONENT, data, self._user(user), channel, message=message)

    async def send_message(
        self,
        content: str,
        *,
        user: FakeUser | str = "alice",
        channel: FakeChannel | str = "general",
        mention_bot: bool = False,
        attachments: Iterable[dict[str, Any]] = (),
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``user`` posts in a guild channel (MESSAGE_CREATE). With ``mention_bot`` the content starts with
        the bot's mention, as Discord's client writes it. Returns the message payload."""
        fake_user, fake_channel = self._user(user), self._channel(channel)
        if mention_bot:
            content = f"<@{self.world.bot.id}> {content}"
        message = self.message_payload(
            content, user=fake_user, channel=fake_channel, attachments=attachments, reply_to=reply_to
        )
        await self._dispatch_message("MESSAGE_CREATE", message)
        return message

    async def dm(
        self,
        content: str,
        *,
        user: FakeUser | str = "alice",
        attachments: Iterable[dict[str, Any]] = (),
    ) -> dict[str, Any]:
        """``user`` writes to the bot in DMs (MESSAGE_CREATE without guild_id). Returns the payload."""
        fake_user = self._user(user)
        channel = self.world.dm_channel(fake_user, self.ids)
        message = self.message_payload(content, user=fake_user, channel=channel, attachments=attachments)
        await self._dispatch_message("MESSAGE_CREATE", message)
        return message

    async def move_voice(self, user: FakeUser | str, channel_id: int | None) -> None:
        """``user`` joins, moves to or (None) leaves a voice channel of the first guild, or is
        disconnected by a moderator: VOICE_STATE_UPDATE to sessions with the voice states intent."""
        fake_user, guild = self._user(user), self.world.guild
        if channel_id is None:
            guild.voice_states.pop(fake_user.id, None)
        else:
            guild.voice_states[fake_user.id] = channel_id
        event = {**guild.voice_state_payload(fake_user.id), "member": guild.member_payload(fake_user)}
        for session in self.sessions:
            if session.identified and session.intents & GUILD_VOICE_STATES:
                await session.dispatch("VOICE_STATE_UPDATE", event)

    def dm_channel(self, user: FakeUser | str = "alice") -> FakeChannel:
        """The bot's DM channel with ``user`` (for ``slash(..., channel=fake.dm_channel("alice"))``)."""
        return self.world.dm_channel(self._user(user), self.ids)

    def attachment(
        self, filename: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> dict[str, Any]:
        """An attachment payload whose URL this fake serves (``attachment.read()`` downloads ``data``)."""
        attachment_id = self.ids.next()
        self.attachments[attachment_id] = StoredAttachment(filename, content_type, data)
        url = f"{self.url}/attachments/{attachment_id}/{filename}"
        return {
            "id": str(attachment_id),
            "filename": filename,
            "size": len(data),
            "url": url,
            "proxy_url": url,
            "content_type": content_type,
        }

    def voice_attachment(self, data: bytes, *, duration_secs: float = 1.0) -> dict[str, Any]:
        """A voice-message attachment (duration and waveform set); a message carrying one gets the
        IS_VOICE_MESSAGE flag (8192), as Discord's voice messages do."""
        payload = self.attachment("voice-message.ogg", data, "audio/ogg")
        payload["duration_secs"] = duration_secs
        payload["waveform"] = base64.b64encode(bytes(range(0, 256, 4))).decode()
        payload["flags"] = 0
        return payload

    def message_payload(
        self,
        content: str,
        *,
        user: FakeUser | str = "alice",
        channel: FakeChannel | str = "general",
        attachments: Iterable[dict[str, Any]] = (),
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A message by ``user`` stored in the fake without dispatching it (e.g. an older message to run
        a context menu on)."""
        fake_user, fake_channel = self._user(user), self._channel(channel)
        attachment_list = list(attachments)
        guild = self.world.guild_by_id(fake_channel.guild_id)
        mentions = [
            u
            for u in [self.world.bot, *self.world.users]
            if f"<@{u.id}>" in content or f"<@!{u.id}>" in content
        ]
        message: dict[str, Any] = {
            "id": str(self.ids.next()),
            "channel_id": str(fake_channel.id),
            "type": 0 if reply_to is None else 19,
            "content": content,
            "author": fake_user.payload(),
            "attachments": attachment_list,
            "embeds": [],
            "components": [],
            "mentions": [
                {**u.payload(), "member": guild.member_payload(user_id=u.id)} if guild else u.payload()
                for u in mentions
            ],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            "timestamp": now_iso(),
            "edited_timestamp": None,
            "flags": IS_VOICE_MESSAGE if any("waveform" in a for a in attachment_list) else 0,
        }
        if guild is not None:
            message["guild_id"] = str(guild.id)
            message["member"] = guild.member_payload(user_id=fake_user.id)
        if reply_to is not None:
            message["message_reference"] = {
                "type": 0,
                "message_id": reply_to["id"],
                "channel_id": reply_to["channel_id"],
                "guild_id": reply_to.get("guild_id"),
            }
            message["referenced_message"] = reply_to
        self.messages[int(message["id"])] = message
        return message

    # ------------------------------------------------------------------ helpers for the driver

    def _user(self, user: FakeUser | str) -> FakeUser:
        return self.world.user(user) if isinstance(user, str) else user

    def _channel(self, channel: FakeChannel | str | int) -> FakeChannel:
        if isinstance(channel, FakeChannel):
            return channel
        if isinstance(channel, str):
            return self.world.channel(channel)
        found = self.world.channel_by_id(channel)
        if found is None:
            raise LookupError(f"no channel {channel}")
        return found

    def _permissions_in(self, user: FakeUser, channel: FakeChannel) -> int:
        guild = self.world.guild_by_id(channel.guild_id)
        return guild.permissions_of(user.id) if guild is not None else 0

    def _check_command_available(self, command: dict[str, Any], user: FakeUser, channel: FakeChannel) -> None:
        """Discord offers a command only where it may run: an nsfw command only in nsfw channels (and
        their threads), a command with default_member_permissions only to members holding them."""
        if command.get("nsfw") and not self._is_nsfw(channel):
            raise PermissionError(
                f"Discord does not offer the nsfw command {command['name']!r} in #{channel.name}"
            )
        required = command.get("default_member_permissions")
        if required is not None and channel.guild_id is not None:
            held = self._permissions_in(user, channel)
            if int(required) & held != int(required):
                raise PermissionError(
                    f"Discord does not offer {command['name']!r} to {user.name}: "
                    f"it needs permissions {required}"
                )

    def _is_nsfw(self, channel: FakeChannel) -> bool:
        if channel.is_thread and channel.parent_id is not None:
            parent = self.world.channel_by_id(channel.parent_id)
            return parent is not None and parent.nsfw
        return channel.nsfw

    def _option(
        self,
        name: str,
        value: Any,
        declared: dict[str, Any] | None,
        channel: FakeChannel,
        resolved: dict[str, dict[str, Any]],
    ) -> dict[str, Any]:
        if isinstance(value, FakeUser):
            resolved.setdefault("users", {})[str(value.id)] = value.payload()
            guild = self.world.guild_by_id(channel.guild_id)
            if guild is not None and value.id in guild.members:
                member = guild.member_payload(user_id=value.id)
                member["permissions"] = str(guild.permissions_of(value.id))
                resolved.setdefault("members", {})[str(value.id)] = member
            return {"name": name, "type": 6, "value": str(value.id)}
        if isinstance(value, dict) and "filename" in value:
            resolved.setdefault("attachments", {})[value["id"]] = value
            return {"name": name, "type": 11, "value": value["id"]}
        if declared is not None:
            option_type = declared["type"]
        elif isinstance(value, bool):
            option_type = 5
        elif isinstance(value, int):
            option_type = 4
        elif isinstance(value, float):
            option_type = 10
        else:
            option_type = 3
        return {"name": name, "type": option_type, "value": value}

    async def _interact(
        self,
        type: int,
        data: dict[str, Any],
        user: FakeUser,
        channel: FakeChannel,
        *,
        message: dict[str, Any] | None = None,
    ) -> InteractionRecord:
        self._interaction_count += 1
        record = InteractionRecord(
            id=self.ids.next(),
            token=f"fake-interaction-token-{self._interaction_count}",
            type=type,
            channel_id=channel.id,
            guild_id=channel.guild_id,
            user=user,
            component_message_id=None if message is None else int(message["id"]),
        )
        self.interactions[record.token] = record
        payload: dict[str, Any] = {
            "id": str(record.id),
            "application_id": str(self.world.application_id),
            "type": type,
            "token": record.token,
            "version": 1,
            "data": data,
            "channel_id": str(channel.id),
            "channel": channel.payload(),
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        guild = self.world.guild_by_id(channel.guild_id)
        if guild is not None:
            member = guild.member_payload(user)
            member["permissions"] = str(guild.permissions_of(user.id))
            payload.update(
                guild_id=str(guild.id),
                guild={"id": str(guild.id), "locale": "en-US", "features": []},
                guild_locale="en-US",
                member=member,
                app_permissions=str(guild.permissions_of(self.world.bot.id)),
                context=0,
                authorizing_integration_owners={"0": str(guild.id)},
            )
        else:
            payload.update(user=user.payload(), context=1, authorizing_integration_owners={"0": str(user.id)})
        if message is not None:
            payload["message"] = message
        await self.dispatch("INTERACTION_CREATE", payload)
        return record

    async def _dispatch_message(self, event: str, message: dict[str, Any]) -> None:
        """Send a message event to each session allowed to see it, with content stripped where the
        MESSAGE_CONTENT intent is missing (DMs, mentions of the bot and the bot's own messages keep it)."""
        await self.wait_identified()
        is_dm = "guild_id" not in message
        needed = DIRECT_MESSAGES if is_dm else GUILD_MESSAGES
        bot_id = str(self.world.bot.id)
        keeps_content = (
            is_dm
            or message["author"]["id"] == bot_id
            or any(m["id"] == bot_id for m in message.get("mentions", []))
        )
        for session in self.sessions:
            if not session.identified or not session.intents & needed:
                continue
            data = message
            if not keeps_content and not session.intents & MESSAGE_CONTENT:
                data = {**message, "content": "", "embeds": [], "attachments": [], "components": []}
            await session.dispatch(event, data)

    # ------------------------------------------------------------------ the aiohttp app

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._record], client_max_size=64 * 1024 * 1024)
        app.router.add_get(GATEWAY_PATH, self._gateway)
        app.router.add_get("/attachments/{attachment_id}/{filename}", self._get_attachment)
        routes: list[tuple[str, str, Callable[[web.Request, RestCall], Awaitable[web.StreamResponse]]]] = [
            ("GET", "/gateway", self._get_gateway),
            ("GET", "/gateway/bot", self._get_gateway),
            ("GET", "/users/@me", self._get_me),
            ("GET", "/oauth2/applications/@me", self._get_application),
            ("GET", "/applications/@me", self._get_application),
            ("GET", "/users/{user_id}", self._get_user),
            ("POST", "/users/@me/channels", self._open_dm),
            ("GET", "/applications/{application_id}/commands", self._get_commands),
            ("PUT", "/applications/{application_id}/commands", self._put_commands),
            ("POST", "/applications/{application_id}/commands", self._post_command),
            ("DELETE", "/applications/{application_id}/commands/{command_id}", self._delete_command),
            ("GET", "/applications/{application_id}/guilds/{guild_id}/commands", self._get_commands),
            ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands", self._put_commands),
            ("POST", "/applications/{application_id}/guilds/{guild_id}/commands", self._post_command),
            (
                "DELETE",
                "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}",
                self._delete_command,
            ),
            ("POST", "/interactions/{interaction_id}/{token}/callback", self._interaction_callback),
            ("POST", "/webhooks/{application_id}/{token}", self._post_followup),
            ("GET", "/webhooks/{application_id}/{token}/messages/{message_id}", self._get_webhook_message),
            ("PATCH", "/webhooks/{application_id}/{token}/messages/{message_id}", self._edit_webhook_message),
            (
                "DELETE",
                "/webhooks/{application_id}/{token}/messages/{message_id}",
                self._delete_webhook_message,
            ),
            ("GET", "/channels/{channel_id}", self._get_channel),
            ("POST", "/channels/{channel_id}/messages", self._post_channel_message),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self._get_channel_message),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self._edit_channel_message),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", self._delete_channel_message),
            ("POST", "/channels/{channel_id}/typing", self._no_content),
            ("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", self._no_content),
            (
                "DELETE",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
                self._no_content,
            ),
        ]
        for method, template, handler in routes:
            app.router.add_route(method, API + template, _bind(handler))
        app.router.add_route("*", UNKNOWN_ROUTE, _bind(self._unknown_route))
        return app

    @web.middleware
    async def _record(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path == GATEWAY_PATH or request.path.startswith("/attachments/"):
            return await handler(request)
        call = await _read_call(request)
        request[CALL] = call
        needs_token = not request.path.startswith((API + "/interactions/", API + "/webhooks/"))
        if needs_token and request.headers.get("Authorization") != f"Bot {self.token}":
            response: web.StreamResponse = _json({"message": "401: Unauthorized", "code": 0}, status=401)
        else:
            try:
                response = await handler(request)
            except ApiError as error:
                response = _error(error.status, error.code, error.message)
        call.status = response.status
        if (
            isinstance(response, web.Response)
            and response.content_type == "application/json"
            and response.body
        ):
            call.response = json.loads(response.body)  # type: ignore[arg-type]
        async with self._calls_changed:
            self.calls.append(call)
            if call.route == "unknown":
                self.unexpected.append(call)
            self._calls_changed.notify_all()
        return response

    # --- gateway

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        session = GatewaySession(ws, request.query.get("compress"))
        self.sessions.append(session)
        try:
            await session.send({"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
            async for frame in ws:
                if frame.type is WSMsgType.TEXT:
                    await self._on_gateway_payload(session, json.loads(frame.data))
        finally:
            self.sessions.remove(session)
        return ws

    async def _on_gateway_payload(self, session: GatewaySession, payload: dict[str, Any]) -> None:
        op = payload.get("op")
        data: dict[str, Any] = payload.get("d") or {}
        if op == HEARTBEAT:
            await session.send({"op": HEARTBEAT_ACK})
        elif op == IDENTIFY:
            self.identify_payloads.append(data)
            session.intents = data.get("intents", 0)
            await session.dispatch("READY", self._ready_payload(data))
            for guild in self.world.guilds:
                await session.dispatch("GUILD_CREATE", guild.create_payload(self._users_by_id()))
            session.identified = True
            self._identified.set()
        elif op == RESUME:
            session.identified = True
            await session.dispatch("RESUMED", {})
        elif op == REQUEST_GUILD_MEMBERS:
            await session.dispatch("GUILD_MEMBERS_CHUNK", self._members_chunk(data))
        elif op == PRESENCE_UPDATE:
            self.presence_updates.append(data)
        elif op == VOICE_STATE_UPDATE:
            # The bot joins, moves or leaves voice; Discord confirms, and sends a joining bot to
            # the voice server, if the test runs one.
            channel_id = data.get("channel_id")
            await self.move_voice(self.world.bot, None if channel_id is None else int(channel_id))
            if channel_id is not None and self.voice_server is not None:
                server = {"token": self.voice_server.token, "endpoint": self.voice_server.endpoint}
                await session.dispatch("VOICE_SERVER_UPDATE", {**server, "guild_id": data["guild_id"]})

    def _users_by_id(self) -> dict[int, FakeUser]:
        return {user.id: user for user in [self.world.bot, *self.world.users]}

    def _ready_payload(self, identify: dict[str, Any]) -> dict[str, Any]:
        ready: dict[str, Any] = {
            "v": 10,
            "user": {**self.world.bot.payload(), "verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [{"id": str(guild.id), "unavailable": True} for guild in self.world.guilds],
            "session_id": f"fake-session-{len(self.identify_payloads)}",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.world.application_id), "flags": APPLICATION_FLAGS},
            "private_channels": [],
            "relationships": [],
            "presences": [],
        }
        if "shard" in identify:
            ready["shard"] = identify["shard"]
        return ready

    def _members_chunk(self, request: dict[str, Any]) -> dict[str, Any]:
        guild = self.world.guild_by_id(int(request["guild_id"]))
        users = self._users_by_id()
        wanted = {int(i) for i in request.get("user_ids") or []}
        members = []
        if guild is not None:
            members = [
                guild.member_payload(users[user_id])
                for user_id in guild.members
                if not wanted or user_id in wanted
            ]
        return {
            "guild_id": request["guild_id"],
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
            "nonce": request.get("nonce"),
        }

    # --- REST: identity and commands

    async def _get_gateway(self, request: web.Request, call: RestCall) -> web.Response:
        limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
        return _json({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})

    async def _get_me(self, request: web.Request, call: RestCall) -> web.Response:
        return _json({**self.world.bot.payload(), "verified": True, "mfa_enabled": False, "flags": 0})

    async def _get_application(self, request: web.Request, call: RestCall) -> web.Response:
        owner = self.world.users[0] if self.world.users else self.world.bot
        return _json(
            {
                "id": str(self.world.application_id),
                "name": self.world.bot.name,
                "description": "",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": owner.payload(),
                "team": None,
                "verify_key": "0" * 64,
                "flags": APPLICATION_FLAGS,
                "bot": self.world.bot.payload(),
                "interactions_endpoint_url": None,
            }
        )

    async def _get_user(self, request: web.Request, call: RestCall) -> web.Response:
        user = self.world.user_by_id(int(call.params["user_id"]))
        if user is None:
            return _error(404, 10013, "Unknown User")
        return _json(user.payload())

    async def _open_dm(self, request: web.Request, call: RestCall) -> web.Response:
        user = self.world.user_by_id(int(call.json["recipient_id"]))
        if user is None:
            return _error(400, 50033, "Invalid Recipient(s)")
        return _json(self.world.dm_channel(user, self.ids).payload())

    def _command_scope(self, call: RestCall) -> int | None:
        if call.params["application_id"] != str(self.world.application_id):
            raise ApiError(404, 10002, "Unknown Application")
        return int(call.params["guild_id"]) if "guild_id" in call.params else None

    def _store_command(self, scope: int | None, body: dict[str, Any]) -> dict[str, Any]:
        existing = {(c["name"], c.get("type", CHAT_INPUT)): c for c in self.commands.get(scope, [])}
        previous = existing.get((body["name"], body.get("type", CHAT_INPUT)))
        command = {
            "type": CHAT_INPUT,
            "description": "",
            "options": [],
            "default_member_permissions": None,
            "nsfw": False,
            **body,
            "id": previous["id"] if previous else str(self.ids.next()),
            "application_id": str(self.world.application_id),
            "version": str(self.ids.next()),
        }
        if scope is not None:
            command["guild_id"] = str(scope)
        return command

    async def _get_commands(self, request: web.Request, call: RestCall) -> web.Response:
        return _json(self.commands.get(self._command_scope(call), []))

    async def _put_commands(self, request: web.Request, call: RestCall) -> web.Response:
        scope = self._command_scope(call)
        self.commands[scope] = [self._store_command(scope, body) for body in call.json]
        return _json(self.commands[scope])

    async def _post_command(self, request: web.Request, call: RestCall) -> web.Response:
        scope = self._command_scope(call)
        command = self._store_command(scope, call.json)
        others = [c for c in self.commands.get(scope, []) if c["id"] != command["id"]]
        self.commands[scope] = [*others, command]
        return _json(command)

    async def _delete_command(self, request: web.Request, call: RestCall) -> web.Response:
        scope = self._command_scope(call)
        self.commands[scope] = [
            c for c in self.commands.get(scope, []) if c["id"] != call.params["command_id"]
        ]
        return web.Response(status=204)

    # --- REST: interactions and their webhook

    def _interaction(self, call: RestCall) -> InteractionRecord:
        record = self.interactions.get(call.params["token"])
        if record is None or (
            "interaction_id" in call.params and call.params["interaction_id"] != str(record.id)
        ):
            raise ApiError(404, 10062, "Unknown interaction")
        return record

    async def _interaction_callback(self, request: web.Request, call: RestCall) -> web.Response:
        record = self._interaction(call)
        if record.acknowledged:
            return _error(400, 40060, "Interaction has already been acknowledged.")
        callback_type = call.json["type"]
        data = call.json.get("data") or {}
        record.callback_types.append(callback_type)
        message: dict[str, Any] | None = None
        if (callback_type == AUTOCOMPLETE_RESULT) != (record.type == APPLICATION_COMMAND_AUTOCOMPLETE):
            return _error(400, 50035, "Invalid Form Body: an autocomplete interaction takes choices only")
        if callback_type in (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE):
            flags = data.get("flags", 0) | (LOADING if callback_type == DEFERRED_CHANNEL_MESSAGE else 0)
            body = data if callback_type == CHANNEL_MESSAGE else {}
            message = await self._create_bot_message(
                record.channel_id, body, call.files, interaction=record, extra_flags=flags
            )
            record.original_message_id = int(message["id"])
        elif callback_type in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE) and record.type == MESSAGE_COMPONENT:
            assert record.component_message_id is not None
            record.original_message_id = record.component_message_id
            message = self.messages[record.component_message_id]
            if callback_type == UPDATE_MESSAGE:
                message = await self._edit_message(message, data, call.files)
        answer: dict[str, Any] = {
            "interaction": {
                "id": str(record.id),
                "type": record.type,
                "response_message_id": message["id"] if message else None,
                "response_message_loading": callback_type == DEFERRED_CHANNEL_MESSAGE,
                "response_message_ephemeral": bool(message and message["flags"] & EPHEMERAL),
            },
            "resource": {"type": callback_type, "message": message} if message else None,
        }
        return _json(answer)

    async def _post_followup(self, request: web.Request, call: RestCall) -> web.Response:
        record = self._interaction(call)
        if not record.acknowledged:
            return _error(404, 10015, "Unknown Webhook")
        message = await self._create_bot_message(
            record.channel_id, call.json or {}, call.files, interaction=record
        )
        record.followup_message_ids.append(int(message["id"]))
        if call.query.get("wait") in ("true", "1", "True"):
            return _json(message)
        return web.Response(status=204)

    def _webhook_message(self, call: RestCall) -> tuple[InteractionRecord, dict[str, Any]]:
        record = self._interaction(call)
        raw = call.params["message_id"]
        message_id = record.original_message_id if raw == "@original" else int(raw)
        message = self.messages.get(message_id) if message_id is not None else None
        if message is None:
            raise ApiError(404, 10008, "Unknown Message")
        return record, message

    async def _get_webhook_message(self, request: web.Request, call: RestCall) -> web.Response:
        return _json(self._webhook_message(call)[1])

    async def _edit_webhook_message(self, request: web.Request, call: RestCall) -> web.Response:
        _, message = self._webhook_message(call)
        return _json(await self._edit_message(message, call.json or {}, call.files))

    async def _delete_webhook_message(self, request: web.Request, call: RestCall) -> web.Response:
        _, message = self._webhook_message(call)
        await self._delete_message(message)
        return web.Response(status=204)

    # --- REST: channels and messages

    def _known_channel(self, call: RestCall) -> FakeChannel:
        channel = self.world.channel_by_id(int(call.params["channel_id"]))
        if channel is None:
            raise ApiError(404, 10003, "Unknown Channel")
        return channel

    def _channel_message(self, call: RestCall) -> dict[str, Any]:
        channel = self._known_channel(call)
        message = self.messages.get(int(call.params["message_id"]))
        if message is None or message["channel_id"] != str(channel.id):
            raise ApiError(404, 10008, "Unknown Message")
        return message

    async def _get_channel(self, request: web.Request, call: RestCall) -> web.Response:
        return _json(self._known_channel(call).payload())

    async def _post_channel_message(self, request: web.Request, call: RestCall) -> web.Response:
        channel = self._known_channel(call)
        message = await self._create_bot_message(channel.id, call.json or {}, call.files)
        return _json(message)

    async def _get_channel_message(self, request: web.Request, call: RestCall) -> web.Response:
        return _json(self._channel_message(call))

    async def _edit_channel_message(self, request: web.Request, call: RestCall) -> web.Response:
        message = self._channel_message(call)
        return _json(await self._edit_message(message, call.json or {}, call.files))

    async def _delete_channel_message(self, request: web.Request, call: RestCall) -> web.Response:
        await self._delete_message(self._channel_message(call))
        return web.Response(status=204)

    async def _no_content(self, request: web.Request, call: RestCall) -> web.Response:
        self._known_channel(call)
        return web.Response(status=204)

    async def _get_attachment(self, request: web.Request) -> web.Response:
        stored = self.attachments.get(int(request.match_info["attachment_id"]))
        if stored is None or stored.filename != request.match_info["filename"]:
            return web.Response(status=404, text="not found")
        stored.downloads += 1
        return web.Response(body=stored.data, headers={"Content-Type": stored.content_type})

    async def _unknown_route(self, request: web.Request, call: RestCall) -> web.Response:
        return _error(
            404, 0, f"404: Not Found (the fake Discord has no route {request.method} {request.path})"
        )

    # --- messages the bot creates

    def _stored_files(
        self, files: list[UploadedFile], entries: list[dict[str, Any]] | None
    ) -> list[dict[str, Any]]:
        """Attachments for uploaded ``files``, described by the payload's ``attachments`` entries (whose
        ``id`` is the file's index) when there are any. Entries for kept attachments carry their
        snowflake id instead, which no upload index reaches."""
        by_index = {
            int(e["id"]): e for e in entries or [] if str(e.get("id", "")).isdigit() and int(e["id"]) < 1000
        }
        stored = []
        for index, upload in enumerate(files):
            entry = by_index.get(index, {})
            payload = self.attachment(
                entry.get("filename", upload.filename), upload.data, upload.content_type
            )
            if entry.get("description"):
                payload["description"] = entry["description"]
            stored.append(payload)
        return stored

    async def _create_bot_message(
        self,
        channel_id: int,
        body: dict[str, Any],
        files: list[UploadedFile],
        *,
        interaction: InteractionRecord | None = None,
        extra_flags: int = 0,
    ) -> dict[str, Any]:
        channel = self.world.channel_by_id(channel_id)
        message: dict[str, Any] = {
            "id": str(self.ids.next()),
            "channel_id": str(channel_id),
            "type": 0,
            "content": body.get("content") or "",
            "author": self.world.bot.payload(),
            "attachments": self._stored_files(files, body.get("attachments")),
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": bool(body.get("tts")),
            "timestamp": now_iso(),
            "edited_timestamp": None,
            "flags": (body.get("flags") or 0) | extra_flags,
        }
        if channel is not None and channel.guild_id is not None:
            message["guild_id"] = str(channel.guild_id)
        if interaction is not None:
            message["webhook_id"] = str(self.world.application_id)
            message["application_id"] = str(self.world.application_id)
            message["type"] = 20 if interaction.type == APPLICATION_COMMAND else 0
        reference = body.get("message_reference")
        if reference is not None:
            message["type"] = 19
            message["message_reference"] = {"type": 0, **reference}
            message["referenced_message"] = self.messages.get(int(reference["message_id"]))
        self.messages[int(message["id"])] = message
        if not message["flags"] & EPHEMERAL:
            await self._dispatch_message("MESSAGE_CREATE", message)
        return message

    async def _edit_message(
        self, message: dict[str, Any], body: dict[str, Any], files: list[UploadedFile]
    ) -> dict[str, Any]:
        for key in ("content", "embeds", "components"):
            if key in body:
                message[key] = body[key] if body[key] is not None else ([] if key != "content" else "")
        if "flags" in body and body["flags"] is not None:
            message["flags"] = (message["flags"] & EPHEMERAL) | body["flags"]
        if "attachments" in body or files:
            kept_ids = {str(e["id"]) for e in body.get("attachments") or []}
            kept = [a for a in message["attachments"] if a["id"] in kept_ids]
            message["attachments"] = kept + self._stored_files(files, body.get("attachments"))
        message["flags"] &= ~LOADING
        message["edited_timestamp"] = now_iso()
        if not message["flags"] & EPHEMERAL:
            await self._dispatch_message("MESSAGE_UPDATE", message)
        return message

    async def _delete_message(self, message: dict[str, Any]) -> None:
        del self.messages[int(message["id"])]
        event = {"id": message["id"], "channel_id": message["channel_id"]}
        if "guild_id" in message:
            event["guild_id"] = message["guild_id"]
        await self._dispatch_message_delete(event, is_dm="guild_id" not in message)

    async def _dispatch_message_delete(self, event: dict[str, Any], *, is_dm: bool) -> None:
        needed = DIRECT_MESSAGES if is_dm else GUILD_MESSAGES
        for session in self.sessions:
            if session.identified and session.intents & needed:
                await session.dispatch("MESSAGE_DELETE", event)


def _has_component(components: list[dict[str, Any]], custom_id: str) -> bool:
    for component in components:
        if component.get("custom_id") == custom_id:
            return True
        if _has_component(component.get("components", []), custom_id):
            return True
        accessory = component.get("accessory")
        if accessory and accessory.get("custom_id") == custom_id:
            return True
    return False


def _bind(
    handler: Callable[[web.Request, RestCall], Awaitable[web.StreamResponse]],
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        return await handler(request, request[CALL])

    return handle


async def _read_call(request: web.Request) -> RestCall:
    """The request as a RestCall; multipart bodies split into ``payload_json`` and ``files[n]``."""
    body: Any = None
    files: list[UploadedFile] = []
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                continue
            data = bytes(await part.read())
            name = part.name or ""
            if name == "payload_json":
                body = json.loads(data)
            else:
                content_type = part.headers.get("Content-Type", "application/octet-stream")
                files.append(UploadedFile(name, part.filename or "", content_type, data))
    elif request.can_read_body:
        text = await request.text()
        body = json.loads(text) if text and request.content_type == "application/json" else (text or None)
    resource = request.match_info.route.resource
    template = resource.canonical if resource is not None else UNKNOWN_ROUTE
    route = "unknown" if template == "/{tail}" else f"{request.method} {template.removeprefix(API)}"
    return RestCall(
        method=request.method,
        path=request.path.removeprefix(API),
        route=route,
        params=dict(request.match_info),
        query=dict(request.query),
        json=body,
        files=files,
        headers={k: v for k, v in request.headers.items() if k.lower() != "authorization"},
    )


def _json(data: Any, status: int = 200) -> web.Response:
    # Exactly "application/json": discord.py compares the header, and aiohttp's json_response adds a charset.
    return web.Response(body=json.dumps(data).encode(), status=status, headers=JSON_HEADERS)


def _error(status: int, code: int, message: str) -> web.Response:
    return _json({"message": message, "code": code}, status=status)
