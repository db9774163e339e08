"""Voice channels, end to end: ``/reactclip listen`` through the fake Discord's gateway, then speech
from the voice server's side (real Opus, DAVE, transport encryption over UDP; see voicelink.py)
through segmentation and the real Vosk model to a clip posted in the text channel, mentioning the
speaker. One test joins through the whole voice gateway handshake (voicelink.py's ``VoiceGateway``:
TLS websocket, IP discovery, DAVE's MLS Welcome); the others skip it for speed, their ``connect``
handing the cog a voice client in the state that handshake leaves it in."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import discord
import pytest

from reactclip.bot.discord.errors import NOT_ENABLED_HERE
from reactclip.bot.discord.listen import MAX_BACKLOG, NOT_IN_VOICE, NOT_LISTENING, VOICE_OFF
from reactclip.bot.discord.reactions import ReactCog
from reactclip.bot.discord.voice_receive import DaveVoiceRecvClient
from reactclip.engine.encode import probe_video
from reactclip.speech.recognize import VoskTranscriber
from reactclip.speech.transcript import Transcript

sys.path.insert(0, str(Path(__file__).parents[1] / "speech"))
from fakediscord import FakeDiscord, VoiceServerInfo, plugin
from spoken import silence, speak
from test_discord_e2e import ClipBot, payload, run
from voicelink import JOIN_TRANSITION, VoiceGateway, VoiceServer

fake_discord = plugin.fake_discord
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("libopus")]

Connect = Callable[[discord.VoiceChannel], Awaitable[DaveVoiceRecvClient]]


def connect_to(server: VoiceServer, speakers: list[int], joined: list[int]) -> Connect:
    """What ``channel.connect`` does once Discord's voice server has answered: a connected voice
    client, here linked to ``server`` with ``speakers`` in the call."""

    async def connect(channel: discord.VoiceChannel) -> DaveVoiceRecvClient:
        joined.append(channel.id)
        state = channel.guild._state
        voice = DaveVoiceRecvClient(state._get_client(), channel)
        state._add_voice_client(channel.guild.id, voice)  # as channel.connect registers it
        server.attach(voice, speakers)
        return voice

    return connect


MakeVoiceBot = Callable[..., tuple[ClipBot, VoiceServer]]


@pytest.fixture
def voice_bot(
    fake_discord: FakeDiscord,
    clean_env: Path,
    text_models: dict[str, Any],
    recording_backend: Any,
    vosk_ko_model: Path,
) -> MakeVoiceBot:
    """Makes a bot whose cog hears with the real Vosk model (or ``transcriber``, which wraps it) and
    joins voice through ``connect_to``, and the voice server its call is linked to; the members
    ``in_voice`` are in "lounge", and the channels it joins are added to ``joined``.
    ``discord_fields`` override DiscordSettings fields."""

    def make(
        in_voice: list[str], joined: list[int] | None = None, transcriber: Any = None, **discord_fields: Any
    ) -> tuple[ClipBot, VoiceServer]:
        world = fake_discord.world
        speakers = [world.user(name).id for name in in_voice]
        world.guild.voice_states.update(dict.fromkeys(speakers, world.channel("lounge").id))
        server = VoiceServer()
        bot = ClipBot(
            text_models,
            recording_backend,
            clean_env / "guilds.sqlite3",
            transcriber=transcriber or VoskTranscriber(vosk_ko_model),
            voice_connect=connect_to(server, speakers, [] if joined is None else joined),
            **discord_fields,
        )
        return bot, server

    return make


def play(
    fake: FakeDiscord, bot: ClipBot, server: VoiceServer, scenario: Callable[[], Awaitable[None]]
) -> None:
    try:
        run(fake, bot, scenario)
    finally:
        server.close()


def listening(bot: ClipBot) -> Any:
    cog = bot.get_cog("ReactCog")
    assert isinstance(cog, ReactCog)
    return cog.voice


async def answer(fake: FakeDiscord, command: str, options: dict[str, Any] | None = None, **who: Any) -> str:
    """The line the bot answers a slash command with (at once, or after deferring)."""
    ref = await fake.slash(command, options, **who)
    body = payload(await fake.wait_for_callback(ref))
    if body["type"] == 5:
        return str(payload(await fake.wait_for_original_edit(ref, timeout=30))["content"])
    return str(body["data"]["content"])


async def refusal(fake: FakeDiscord, command: str, **who: Any) -> str:
    """The line of a refused command, which only the person who ran it sees."""
    ref = await fake.slash(command, **who)
    body = payload(await fake.wait_for_callback(ref))
    assert body["type"] == 4 and body["data"]["flags"] & 64, body
    return str(body["data"]["content"])


def test_listen_is_refused_politely_when_off_without_the_permission_or_outside_voice(
    fake_discord: FakeDiscord, voice_bot: MakeVoiceBot, recording_backend: Any
) -> None:
    joined: list[int] = []
    world = fake_discord.world
    lounge = world.channel("lounge").id
    bot, server = voice_bot(["alice"], joined)

    async def scenario() -> None:
        assert await refusal(fake_discord, "reactclip listen", user="mod") == VOICE_OFF
        await answer(fake_discord, "reactclip settings set", {"voice_triggers": True}, user="owner")
        refused = await refusal(fake_discord, "reactclip listen", user="alice")  # in voice, no Move Members
        assert refused == "you need the Move Members permission to start or stop listening here"
        assert await refusal(fake_discord, "reactclip stop", user="alice") == refused
        assert await refusal(fake_discord, "reactclip listen", user="mod") == NOT_IN_VOICE
        assert await refusal(fake_discord, "reactclip stop", user="mod") == NOT_LISTENING
        # Clips go where the command was run: reactclip must be on in that channel.
        cog = bot.get_cog("ReactCog")
        assert isinstance(cog, ReactCog) and cog.store is not None
        cog.store.set(world.guild.id, enabled_channels=(world.channel("nsfw").id,))
        assert await refusal(fake_discord, "reactclip listen", user="mod") == NOT_ENABLED_HERE
        cog.store.set(world.guild.id, enabled_channels=())
        assert joined == []  # no refusal got as far as joining
        # The guild names the permission: with Connect, which every member has, alice may start.
        await answer(fake_discord, "reactclip settings set", {"listen_permission": "connect"}, user="owner")
        shown = await answer(fake_discord, "reactclip settings show", user="owner")
        assert "who may start listening: members with Connect" in shown
        line = await answer(fake_discord, "reactclip listen", user="alice")
        assert line.startswith(f"🎙️ listening in <#{lounge}>")
        assert joined == [lounge]
        assert await refusal(fake_discord, "reactclip listen", user="alice") == (
            f"I'm already listening in <#{lounge}>; `/reactclip stop` first"
        )
        # A moderator disconnects the bot from voice: it says so, and listening can start again.
        await fake_discord.move_voice("reactclip", None)
        said = await fake_discord.wait_for_channel_message(world.channel("general").id, timeout=30)
        assert payload(said)["content"] == f"stopped listening: I was disconnected from <#{lounge}>"
        assert await refusal(fake_discord, "reactclip stop", user="alice") == NOT_LISTENING

    play(fake_discord, bot, server, scenario)


async def mod_starts_listening(fake: FakeDiscord) -> None:
    """The owner turns voice triggers on and the mod starts listening in the lounge."""
    await answer(fake, "reactclip settings set", {"voice_triggers": True}, user="owner")
    assert (await answer(fake, "reactclip listen", user="mod")).startswith("🎙️ listening")


@pytest.fixture
def quick_to_leave(voice_bot: MakeVoiceBot) -> tuple[ClipBot, VoiceServer]:
    """A voice bot with alice and mod in the lounge that leaves a voice channel empty for 1 s."""
    return voice_bot(["alice", "mod"], voice_empty_leave_s=1.0)


def test_listening_stops_once_everyone_has_left_the_voice_channel(
    fake_discord: FakeDiscord, quick_to_leave: tuple[ClipBot, VoiceServer]
) -> None:
    world = fake_discord.world
    lounge, general = world.channel("lounge").id, world.channel("general").id
    bot, server = quick_to_leave

    async def scenario() -> None:
        await mod_starts_listening(fake_discord)
        await fake_discord.move_voice("mod", None)
        await asyncio.sleep(2.0)  # alice is still there: it stays
        assert world.guild.id in listening(bot).sessions
        await fake_discord.move_voice("alice", None)
        said = await fake_discord.wait_for_channel_message(general, timeout=30)
        assert payload(said)["content"] == f"stopped listening: nobody is left in <#{lounge}>"
        assert world.guild.id not in listening(bot).sessions
        assert await refusal(fake_discord, "reactclip stop", user="mod") == NOT_LISTENING

    play(fake_discord, bot, server, scenario)


def test_a_bot_moved_to_another_voice_channel_listens_there_and_says_so(
    fake_discord: FakeDiscord, quick_to_leave: tuple[ClipBot, VoiceServer]
) -> None:
    world = fake_discord.world
    studio, general = world.channel("studio").id, world.channel("general").id
    bot, server = quick_to_leave

    async def scenario() -> None:
        await mod_starts_listening(fake_discord)
        # The mod drags the bot and alice to the studio; the mod stays in the lounge.
        await fake_discord.move_voice("alice", studio)
        await fake_discord.move_voice("reactclip", studio)
        said = await fake_discord.wait_for_channel_message(general, timeout=30)
        assert payload(said)["content"] == f"I was moved: now listening in <#{studio}>"
        await asyncio.sleep(2.0)  # alice is in the studio with it: it stays
        assert world.guild.id in listening(bot).sessions
        # The studio empties while the lounge still has the mod: it is the studio that counts.
        await fake_discord.move_voice("alice", None)
        said = await fake_discord.wait_for_channel_message(general, timeout=30)
        assert payload(said)["content"] == f"stopped listening: nobody is left in <#{studio}>"
        assert world.guild.id not in listening(bot).sessions

    play(fake_discord, bot, server, scenario)


def test_speech_in_a_voice_channel_becomes_a_clip_in_the_text_channel_mentioning_the_speaker(
    fake_discord: FakeDiscord, voice_bot: MakeVoiceBot, recording_backend: Any
) -> None:
    world = fake_discord.world
    alice, lounge, general = world.user("alice"), world.channel("lounge"), world.channel("general")
    joined: list[int] = []
    bot, server = voice_bot(["alice", "mod"], joined)

    async def scenario() -> None:
        await answer(
            fake_discord,
            "reactclip settings set",
            {"voice_triggers": True, "voice_mode": "every"},
            user="owner",
        )
        line = await answer(fake_discord, "reactclip listen", user="mod")
        assert line.startswith(f"🎙️ listening in <#{lounge.id}>: every utterance said there gets a clip here")
        assert joined == [lounge.id]

        await server.speak({alice.id: silence(0.4) + speak("오늘 날씨가 좋다", voice="ko") + silence(1.2)})
        posted = await fake_discord.wait_for_channel_message(general.id, timeout=90)
        first = payload(posted)
        assert first["content"].startswith(f"<@{alice.id}> > ")
        assert [int(u) for u in first["allowed_mentions"]["users"]] == [alice.id]
        assert first["allowed_mentions"]["parse"] == []
        final = await fake_discord.wait_for(
            lambda c: (
                c.method == "PATCH" and c.params.get("message_id") == posted.response["id"] and bool(c.files)
            ),
            timeout=90,
        )
        assert final.params["channel_id"] == str(general.id)
        assert payload(final)["content"].startswith(f"<@{alice.id}> > ")
        assert probe_video(final.files[0].data, "mp4").frames >= 8
        assert len(recording_backend.calls) == 1
        # Voice requests are not kept: no remake buttons, and the stored request holds no words.
        ids = [b["custom_id"] for row in payload(final)["components"] for b in row["components"]]
        by_action = {custom_id.split(":")[1]: custom_id.split(":")[2] for custom_id in ids}
        assert set(by_action) == {"delete", "up", "down"}
        cog = bot.get_cog("ReactCog")
        assert isinstance(cog, ReactCog) and cog.store is not None
        stored = cog.store.load_request(by_action["delete"])
        assert stored is not None and stored.user_id == alice.id and stored.text == ""

        stopped = await answer(fake_discord, "reactclip stop", user="mod")
        assert stopped == f"stopped listening in <#{lounge.id}>"
        assert listening(bot).sessions == {}

    play(fake_discord, bot, server, scenario)


def channel_posts(fake: FakeDiscord) -> list[Any]:
    """Every message the bot has posted in a channel (answers to commands are not posts)."""
    return [c for c in fake.calls if c.route == "POST /channels/{channel_id}/messages"]


async def heard(bot: ClipBot, count: int) -> None:
    """Until the guild's listening session has transcribed ``count`` utterances."""
    [session] = listening(bot).sessions.values()
    for _ in range(1200):
        if session.heard >= count and not session._tasks:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"heard {session.heard} utterances, not {count}")


def test_in_wake_mode_speech_without_the_phrase_makes_no_clip_until_the_guild_picks_every_utterance(
    fake_discord: FakeDiscord, voice_bot: MakeVoiceBot, recording_backend: Any
) -> None:
    world = fake_discord.world
    alice, general = world.user("alice"), world.channel("general")
    bot, server = voice_bot(["alice"])

    async def scenario() -> None:
        options = {"voice_triggers": True, "listen_permission": "connect"}
        shown = await answer(fake_discord, "reactclip settings set", options, user="owner")
        assert 'in voice: what starts with "reaction"' in shown
        line = await answer(fake_discord, "reactclip listen", user="alice")
        assert 'what starts with "reaction" said there gets a clip here' in line

        # Korean speech, heard by the Korean model: words, but none of them the wake phrase.
        await server.speak({alice.id: silence(0.4) + speak("서울", voice="ko") + silence(1.2)})
        await heard(bot, 1)
        assert channel_posts(fake_discord) == [] and recording_backend.calls == []

        await answer(fake_discord, "reactclip settings set", {"voice_mode": "every"}, user="owner")
        await server.speak({alice.id: speak("오늘 날씨가 좋다", voice="ko") + silence(1.2)})
        posted = await fake_discord.wait_for_channel_message(general.id, timeout=90)
        assert payload(posted)["content"].startswith(f"<@{alice.id}> > ")
        await fake_discord.wait_for(
            lambda c: c.params.get("message_id") == posted.response["id"] and bool(c.files), timeout=90
        )
        await heard(bot, 2)
        assert len(channel_posts(fake_discord)) == 1 and len(recording_backend.calls) == 1

    play(fake_discord, bot, server, scenario)


class GatedTranscriber:
    """The real Vosk transcriber behind a gate: every utterance waits until ``gate`` is set, as
    recognition that cannot keep up with a crowded channel would make it wait."""

    def __init__(self, model: Path) -> None:
        self.recognizer = VoskTranscriber(model)
        self.gate = threading.Event()

    def transcribe(self, pcm: bytes) -> Transcript:
        self.gate.wait(timeout=120)
        return self.recognizer.transcribe(pcm)


def test_speech_past_a_full_backlog_is_skipped_said_once_and_heard_again_once_it_drains(
    fake_discord: FakeDiscord, voice_bot: MakeVoiceBot, recording_backend: Any, vosk_ko_model: Path
) -> None:
    world = fake_discord.world
    lounge, general = world.channel("lounge").id, world.channel("general").id
    speakers = ["alice", "mod", "owner"]
    transcriber = GatedTranscriber(vosk_ko_model)
    bot, server = voice_bot(speakers, transcriber=transcriber)

    async def scenario() -> None:
        await mod_starts_listening(fake_discord)  # wake mode: Korean words make no clip
        [session] = listening(bot).sessions.values()
        twice = (
            silence(0.4) + speak("서울", voice="ko") + silence(1.0) + speak("서울", voice="ko") + silence(1.2)
        )
        try:
            # Three people say two things each while recognition is stuck: six utterances.
            await server.speak({world.user(name).id: twice for name in speakers})
            notice = await fake_discord.wait_for_channel_message(general, timeout=30)
        finally:
            transcriber.gate.set()
        assert payload(notice)["content"] == (
            f"too many people are talking at once in <#{lounge}> for me to keep up: I skipped some"
        )
        await heard(bot, MAX_BACKLOG)
        assert session.skipped == 2 * len(speakers) - MAX_BACKLOG
        # Drained: what is said next is heard again, and the notice is not repeated.
        await server.speak({world.user("alice").id: speak("서울", voice="ko") + silence(1.2)})
        await heard(bot, MAX_BACKLOG + 1)
        assert session.skipped == 2 * len(speakers) - MAX_BACKLOG
        assert len(channel_posts(fake_discord)) == 1 and recording_backend.calls == []

    play(fake_discord, bot, server, scenario)


def test_listen_joins_through_the_whole_voice_handshake_then_hears_dave_encrypted_speech(
    fake_discord: FakeDiscord,
    clean_env: Path,
    text_models: dict[str, Any],
    recording_backend: Any,
    vosk_ko_model: Path,
) -> None:
    """No stand-in for ``channel.connect``: the bot joins through the voice gateway (TLS websocket,
    IP discovery, SESSION DESCRIPTION, DAVE's MLS Welcome) as with Discord."""
    world = fake_discord.world
    alice, mod, lounge, general = (
        world.user("alice"),
        world.user("mod"),
        world.channel("lounge"),
        world.channel("general"),
    )
    world.guild.voice_states.update({alice.id: lounge.id, mod.id: lounge.id})
    server = VoiceServer()
    gateway = VoiceGateway(server, lounge.id, [alice.id, mod.id])
    fake_discord.voice_server = VoiceServerInfo(gateway.token, gateway.endpoint, gateway.client_tls)
    bot = ClipBot(
        text_models,
        recording_backend,
        clean_env / "guilds.sqlite3",
        transcriber=VoskTranscriber(vosk_ko_model),
    )

    async def scenario() -> None:
        await gateway.start()
        try:
            options = {"voice_triggers": True, "voice_mode": "every"}
            await answer(fake_discord, "reactclip settings set", options, user="owner")
            line = await answer(fake_discord, "reactclip listen", user="mod")
            assert line.startswith(f"🎙️ listening in <#{lounge.id}>")
            await asyncio.wait_for(gateway.joined.wait(), timeout=30)
            assert gateway.identified is not None
            assert gateway.identified["token"] == gateway.token
            assert gateway.identified["server_id"] == str(world.guild.id)
            assert gateway.identified["user_id"] == str(world.bot.id)
            assert gateway.identified["max_dave_protocol_version"] >= 1
            assert gateway.transitions_ready == [JOIN_TRANSITION]
            [voice] = bot.voice_clients
            assert isinstance(voice, DaveVoiceRecvClient) and voice.channel.id == lounge.id
            assert voice._connection.dave_session is not None and voice._connection.dave_session.ready

            await server.speak(
                {alice.id: silence(0.4) + speak("오늘 날씨가 좋다", voice="ko") + silence(1.2)}
            )
            posted = await fake_discord.wait_for_channel_message(general.id, timeout=90)
            assert payload(posted)["content"].startswith(f"<@{alice.id}> > ")
            await fake_discord.wait_for(
                lambda c: c.params.get("message_id") == posted.response["id"] and bool(c.files), timeout=90
            )
            assert (
                await answer(fake_discord, "reactclip stop", user="mod")
                == f"stopped listening in <#{lounge.id}>"
            )
            for _ in range(200):  # stop answers first, then hangs up
                if not bot.voice_clients:
                    break
                await asyncio.sleep(0.05)
            assert bot.voice_clients == [] and world.bot.id not in world.guild.voice_states
        finally:
            await gateway.stop()

    play(fake_discord, bot, server, scenario)
