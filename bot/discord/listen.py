"""Listening in a voice channel: ``/reactclip listen`` joins the member's voice channel, and what
is said there becomes clips in the text channel the command came from.

    packets -> voice_receive (DAVE, Opus, 16 kHz per speaker) -> segmenter (utterances per speaker)
    -> Vosk in a thread -> wake phrase or every utterance (the guild's choice) -> ``on_request``,
    the same path as typed text (limits, moderation first, the clip, mentioning the speaker)

Off unless the guild turns ``voice_triggers`` on; starting and stopping need the permission the
guild names in ``listen_permission``. Privacy: an utterance's audio lives in memory only until it
is transcribed and is never stored or logged; only its words go on, for that one request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol

import discord

from reactclip.bot.discord.errors import NotAllowed
from reactclip.bot.discord.guild_settings import GuildSettings, permission_name
from reactclip.bot.discord.voice_receive import DaveVoiceRecvClient, SpeakerPcmSink, opus_problem
from reactclip.bot.request import hash_user
from reactclip.speech.errors import NotUnderstood
from reactclip.speech.segment import SegmentSettings, SpeakerSegmenters, Utterance
from reactclip.speech.transcript import Transcript
from reactclip.speech.wake import request_text

log = logging.getLogger(__name__)

TICK_S = 0.2
"""How often quiet speakers are checked for an utterance to close."""
JOIN_TIMEOUT_S = 20.0
RECOGNITION_SLOTS = 2
"""Utterances recognised at once across every guild: Vosk is CPU-bound, and more threads than
cores would only slow each one (and the event loop's host) down."""
MAX_BACKLOG = 4
"""Utterances of one guild waiting for recognition or in it. Past that, new ones are skipped: a
crowded channel must not queue minutes of speech ahead of other guilds', and a reaction that late
is no use to anyone."""
BEHIND_NOTICE_S = 60.0
"""At most one "couldn't keep up" line per guild in this many seconds."""

VOICE_OFF = (
    "listening in voice channels is off in this server; "
    "someone with Manage Server can turn it on with `/reactclip settings set voice_triggers:True`"
)
NOT_IN_VOICE = "join a voice channel first, then run `/reactclip listen`"
NOT_LISTENING = "I'm not listening in a voice channel in this server"


class Transcriber(Protocol):
    """Speech to text on 16 kHz mono s16le PCM (``reactclip.speech.recognize.VoskTranscriber``)."""

    def transcribe(self, pcm: bytes) -> Transcript: ...


VoiceRequest = Callable[[discord.Member, str, discord.abc.Messageable, bool], Awaitable[None]]
"""Makes a clip of the words a member said, answered in the text channel (the cog's path); the
flag says whether they asked with the wake phrase."""
Connect = Callable[[discord.VoiceChannel | discord.StageChannel], Awaitable[DaveVoiceRecvClient]]


async def connect_voice(channel: discord.VoiceChannel | discord.StageChannel) -> DaveVoiceRecvClient:
    """Join ``channel`` with a client that can receive (and decrypt) what is said."""
    client = await channel.connect(cls=DaveVoiceRecvClient, timeout=JOIN_TIMEOUT_S, self_deaf=False)
    assert isinstance(client, DaveVoiceRecvClient)
    return client


def listening_line(channel: discord.abc.GuildChannel, settings: GuildSettings) -> str:
    return (
        f"🎙️ listening in {channel.mention}: {settings.voice_mode_line()} said there gets a clip here. "
        "Nothing is recorded: only the words of a request are used, once. `/reactclip stop` ends it."
    )


class ListeningSession:
    """One guild's listening: its voice client, one segmenter per speaker, and the text channel
    where answers go. Guild settings are read for each utterance, so a change applies at once."""

    def __init__(
        self,
        voice_client: DaveVoiceRecvClient,
        text_channel: discord.abc.Messageable,
        settings: Callable[[], GuildSettings],
        transcriber: Transcriber,
        on_request: VoiceRequest,
        *,
        min_confidence: float,
        on_end: Callable[[ListeningSession], None],
        recognizing: asyncio.Semaphore,
        empty_leave_s: float,
        segments: SegmentSettings | None = None,
    ) -> None:
        self.voice_client = voice_client
        self.text_channel = text_channel
        self._settings = settings
        self._transcriber = transcriber
        self._on_request = on_request
        self._min_confidence = min_confidence
        self._on_end = on_end
        self._recognizing = recognizing
        self._empty_leave_s = empty_leave_s
        self._segmenters = SpeakerSegmenters(segments)
        self._loop = asyncio.get_running_loop()
        self._tasks: set[asyncio.Task[None]] = set()
        self._ticker: asyncio.Task[None] | None = None
        self._backlog = 0
        self._behind_told_at: float | None = None
        self.heard = 0
        """Utterances transcribed so far (a count only)."""
        self.skipped = 0
        """Utterances skipped because the guild's backlog was full (a count only)."""

    @property
    def guild(self) -> discord.Guild:
        return self.voice_client.guild

    def start(self) -> None:
        self.voice_client.listen(SpeakerPcmSink(self.on_pcm, self._loop))
        self._ticker = self._loop.create_task(self._close_quiet_speakers())

    def on_pcm(self, user_id: int, pcm: bytes) -> None:
        """A speaker's next PCM (on the loop, from the receive thread)."""
        for utterance in self._segmenters.feed(user_id, pcm, self._loop.time()):
            self._spawn(utterance)

    async def _close_quiet_speakers(self) -> None:
        """Every tick: close the utterances of speakers who went quiet, and leave a channel nobody
        (but bots) has been in for ``empty_leave_s``."""
        empty_since: float | None = None
        channel = self.voice_client.channel
        while self.voice_client.is_connected():
            await asyncio.sleep(TICK_S)
            now = self._loop.time()
            for utterance in self._segmenters.close_idle(now):
                self._spawn(utterance)
            if self.voice_client.channel != channel:
                # Someone with Move Members dragged the bot elsewhere: listen there, and say so.
                channel = self.voice_client.channel
                empty_since = None
                log.info("voice: moved guild=%s", self.guild.id)
                await self._say(f"I was moved: now listening in {channel.mention}")
            if any(not member.bot for member in channel.members):
                empty_since = None
                continue
            empty_since = now if empty_since is None else empty_since
            if now - empty_since >= self._empty_leave_s:
                log.info("voice: nobody left, leaving guild=%s", self.guild.id)
                await self._hang_up()
                await self._ended(f"stopped listening: nobody is left in {channel.mention}")
                return
        # Disconnected from outside (kicked, the channel deleted): say so, and let listen start again.
        log.info("voice: disconnected guild=%s", self.guild.id)
        await self._ended(f"stopped listening: I was disconnected from {channel.mention}")

    async def _ended(self, line: str) -> None:
        """Listening ended without ``/reactclip stop``: ``line`` to the text channel."""
        self._on_end(self)
        self._segmenters.flush_all()
        await self._say(line)

    def _spawn(self, utterance: Utterance) -> None:
        member = self.guild.get_member(int(utterance.speaker))  # type: ignore[call-overload]
        if member is None or member.bot:
            return
        if self._backlog >= MAX_BACKLOG:
            self.skipped += 1
            log.info("voice: behind, skipped an utterance guild=%s", self.guild.id)
            self._tell_behind()
            return
        self._backlog += 1
        self._track(self._answer(member, utterance))

    def _track(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` as a task that ``stop`` cancels."""
        task = self._loop.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _tell_behind(self) -> None:
        """Say (at most once per BEHIND_NOTICE_S) that some speech was skipped, so a wake phrase
        that got no clip is explained rather than silently lost."""
        now = self._loop.time()
        if self._behind_told_at is not None and now - self._behind_told_at < BEHIND_NOTICE_S:
            return
        self._behind_told_at = now
        where = self.voice_client.channel.mention
        self._track(
            self._say(f"too many people are talking at once in {where} for me to keep up: I skipped some")
        )

    async def _say(self, line: str) -> None:
        """``line`` in the text channel, pinging nobody; a failed send is not worth a traceback."""
        with contextlib.suppress(discord.HTTPException):
            await self.text_channel.send(line, allowed_mentions=discord.AllowedMentions.none())

    async def _answer(self, member: discord.Member, utterance: Utterance) -> None:
        who = f"guild={self.guild.id} user={hash_user(member.id)}"
        try:
            async with self._recognizing:
                transcript = await asyncio.to_thread(self._transcriber.transcribe, utterance.pcm)
        except Exception:
            log.warning("voice: recognition failed %s", who, exc_info=True)
            return
        finally:
            self._backlog -= 1
        del utterance  # the audio goes no further than recognition
        self.heard += 1
        try:
            heard = transcript.heard(self._min_confidence)
        except NotUnderstood:
            log.debug("voice: nothing made out %s", who)
            return
        settings = self._settings()
        text = request_text(heard, settings.voice_mode, settings.wake_phrase)
        if text is None:
            return
        log.info("voice: request %s (%d words)", who, len(text.split()))
        await self._on_request(member, text, self.text_channel, settings.voice_mode == "wake")

    async def stop(self) -> None:
        tasks = [task for task in (self._ticker, *self._tasks) if task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._segmenters.flush_all()  # dropped: a request cut off by stop is not made
        await self._hang_up()

    async def _hang_up(self) -> None:
        self.voice_client.stop_listening()
        await self.voice_client.disconnect(force=True)


class VoiceListening:
    """The listening sessions of every guild, and the two commands that start and stop them."""

    def __init__(
        self,
        on_request: VoiceRequest,
        transcriber: Callable[[], Transcriber],
        *,
        min_confidence: Callable[[], float],
        connect: Connect = connect_voice,
        empty_leave_s: float = 60.0,
    ) -> None:
        self._on_request = on_request
        self._empty_leave_s = empty_leave_s
        self._transcriber = transcriber
        self._min_confidence = min_confidence
        self._connect = connect
        self._recognizing = asyncio.Semaphore(RECOGNITION_SLOTS)
        self.sessions: dict[int, ListeningSession] = {}

    async def listen(self, interaction: discord.Interaction, settings: Callable[[], GuildSettings]) -> None:
        guild_settings = settings()
        guild = interaction.guild
        member = interaction.user
        if guild is None or not isinstance(member, discord.Member):
            raise NotAllowed("that works in a server, not in DMs")
        self._check_allowed(interaction, guild_settings)
        channel = member.voice.channel if member.voice is not None else None
        if channel is None:
            raise NotAllowed(NOT_IN_VOICE)
        if not channel.permissions_for(guild.me).connect:
            raise NotAllowed(f"I need the Connect permission in {channel.mention} to listen there")
        current = self.sessions.get(guild.id)
        if current is not None:
            where = current.voice_client.channel
            raise NotAllowed(f"I'm already listening in {where.mention}; `/reactclip stop` first")
        problem = opus_problem()
        if problem is not None:
            raise NotAllowed(f"voice isn't available on this bot yet: {problem}")
        await interaction.response.defer(thinking=True)
        transcriber = await asyncio.to_thread(self._transcriber)  # loads the speech model once
        try:
            voice_client = await self._connect(channel)
        except (TimeoutError, discord.ClientException) as exc:
            log.info("voice: could not join guild=%s: %s", guild.id, type(exc).__name__)
            raise NotAllowed(f"I couldn't join {channel.mention}; please try again") from exc
        session = ListeningSession(
            voice_client,
            interaction.channel,  # type: ignore[arg-type]
            settings,
            transcriber,
            self._on_request,
            min_confidence=self._min_confidence(),
            on_end=self._ended,
            recognizing=self._recognizing,
            empty_leave_s=self._empty_leave_s,
        )
        session.start()
        self.sessions[guild.id] = session
        log.info("voice: listening guild=%s", guild.id)
        await interaction.edit_original_response(
            content=listening_line(channel, guild_settings), allowed_mentions=discord.AllowedMentions.none()
        )

    async def stop(self, interaction: discord.Interaction, settings: GuildSettings) -> None:
        self._check_allowed(interaction, settings)
        session = self.sessions.pop(interaction.guild_id or 0, None)
        if session is None:
            raise NotAllowed(NOT_LISTENING)
        channel = session.voice_client.channel
        await interaction.response.send_message(
            f"stopped listening in {channel.mention}", allowed_mentions=discord.AllowedMentions.none()
        )
        await session.stop()
        log.info("voice: stopped guild=%s", interaction.guild_id)

    def _ended(self, session: ListeningSession) -> None:
        if self.sessions.get(session.guild.id) is session:
            del self.sessions[session.guild.id]

    async def close(self) -> None:
        sessions, self.sessions = list(self.sessions.values()), {}
        for session in sessions:
            await session.stop()

    @staticmethod
    def _check_allowed(interaction: discord.Interaction, settings: GuildSettings) -> None:
        if not settings.voice_triggers:
            raise NotAllowed(VOICE_OFF)
        if not getattr(interaction.permissions, settings.listen_permission, False):
            name = permission_name(settings.listen_permission)
            raise NotAllowed(f"you need the {name} permission to start or stop listening here")
