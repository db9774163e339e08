"""The voice receive path, from packets on the bot's UDP socket to 16 kHz PCM per speaker: real
RTP packets with real transport encryption around real DAVE frames of real Opus, through
discord-ext-voice-recv's socket reader, jitter buffer and decoder with reactclip's DAVE step.
The bot is the real discord.py client connected to the fake Discord; only the voice gateway
handshake is skipped (see voicelink.py)."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path

import discord
import numpy as np
import pytest
from discord.ext import commands

from reactclip.bot.discord.voice_receive import DaveVoiceRecvClient, SpeakerPcmSink
from reactclip.bot.discord.voice_receive import log as receive_log
from reactclip.speech.pcm import SAMPLE_RATE, duration_s
from reactclip.speech.segment import SpeakerSegmenters

sys.path.insert(0, str(Path(__file__).parents[1] / "speech"))
from fakediscord import FakeDiscord, plugin
from spoken import silence, speak
from voicelink import VoiceServer, dave_group

fake_discord = plugin.fake_discord

pytestmark = pytest.mark.usefixtures("libopus")


def tone(frequency: float, seconds: float) -> bytes:
    t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return np.round(6000 * np.sin(2 * np.pi * frequency * t)).astype("<i2").tobytes()


def dominant_hz(pcm: bytes) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.argmax(spectrum) * SAMPLE_RATE / len(samples))


Scenario = Callable[[DaveVoiceRecvClient, VoiceServer, dict[int, bytearray]], Awaitable[None]]


def receive(fake: FakeDiscord, server: VoiceServer, speakers: list[str], scenario: Scenario) -> None:
    """Connect a bot to the fake Discord, give its voice client an established connection to
    ``server`` in the voice channel "lounge", listen, and play ``scenario``."""
    bot = commands.Bot(command_prefix="!", intents=discord.Intents.default(), guild_ready_timeout=0.05)

    async def main() -> None:
        async with fake, fake.connected(bot):
            lounge = bot.get_channel(fake.world.channel("lounge").id)
            assert isinstance(lounge, discord.VoiceChannel)
            voice = DaveVoiceRecvClient(bot, lounge)
            server.attach(voice, [fake.world.user(name).id for name in speakers])
            heard: dict[int, bytearray] = defaultdict(bytearray)
            voice.listen(SpeakerPcmSink(lambda uid, pcm: heard[uid].extend(pcm), asyncio.get_running_loop()))
            try:
                await scenario(voice, server, heard)
            finally:
                voice.stop_listening()
                voice._connection._socket_reader.stop()
                voice._connection.socket.close()
                server.close()

    asyncio.run(main())


async def wait_for_audio(
    heard: dict[int, bytearray], wanted: dict[int, float], timeout: float = 20.0
) -> None:
    """Until each speaker's received audio reaches the seconds wanted (the router thread decodes
    as packets come)."""
    for _ in range(int(timeout / 0.05)):
        if all(duration_s(bytes(heard.get(uid, b""))) >= s for uid, s in wanted.items()):
            return
        await asyncio.sleep(0.05)


def test_dave_encrypted_speech_of_two_members_comes_out_as_pcm_per_speaker(fake_discord: FakeDiscord) -> None:
    server = VoiceServer(dave=True)
    alice, mod = fake_discord.world.user("alice").id, fake_discord.world.user("mod").id
    speech = silence(0.3) + speak("we won the finals") + silence(0.6)
    hum = tone(440, 2.0)

    async def scenario(voice: DaveVoiceRecvClient, server: VoiceServer, heard: dict[int, bytearray]) -> None:
        sent = await server.speak({alice: speech, mod: hum})
        assert sent > 100
        # The last packet of each stream stays in the jitter buffer until another comes: 20 ms.
        await wait_for_audio(heard, {alice: duration_s(speech) - 0.1, mod: duration_s(hum) - 0.1})
        assert set(heard) == {alice, mod}
        assert duration_s(bytes(heard[alice])) == pytest.approx(duration_s(speech), abs=0.1)
        assert dominant_hz(bytes(heard[mod])) == pytest.approx(440, abs=5)
        assert abs(dominant_hz(bytes(heard[alice])) - 440) > 20
        # Every frame went through the bot's DAVE session: none passed through unencrypted.
        assert server.bot_session is not None
        stats = server.bot_session.get_decryption_stats(alice)
        assert stats is not None and stats.successes >= 40 and stats.failures == 0 and stats.passthroughs == 0
        # What was decoded is speech again: the segmenter finds exactly one utterance in it.
        segmenters = SpeakerSegmenters()
        utterances = segmenters.feed(alice, bytes(heard[alice]), now=0.0) + segmenters.flush_all()
        assert len(utterances) == 1 and utterances[0].duration_s > 1.0

    receive(fake_discord, server, ["alice", "mod"], scenario)


def test_without_end_to_end_encryption_the_transport_layer_alone_is_removed(
    fake_discord: FakeDiscord,
) -> None:
    server = VoiceServer(dave=False)
    alice = fake_discord.world.user("alice").id

    async def scenario(voice: DaveVoiceRecvClient, server: VoiceServer, heard: dict[int, bytearray]) -> None:
        assert voice._connection.dave_session is None
        await server.speak({alice: tone(300, 1.0)})
        await wait_for_audio(heard, {alice: 0.9})
        assert dominant_hz(bytes(heard[alice])) == pytest.approx(300, abs=5)

    receive(fake_discord, server, ["alice"], scenario)


def test_a_frame_the_group_cannot_open_becomes_silence_and_is_never_logged(
    fake_discord: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    server = VoiceServer(dave=True)
    alice = fake_discord.world.user("alice").id
    lounge = fake_discord.world.channel("lounge").id

    async def scenario(voice: DaveVoiceRecvClient, server: VoiceServer, heard: dict[int, bytearray]) -> None:
        # alice's client encrypts with keys of another group (a stale epoch): the bot cannot open it.
        _, strangers = dave_group(lounge, 42, [alice])
        server.speakers[alice].dave = strangers[alice]
        with caplog.at_level(logging.DEBUG), caplog.at_level(logging.DEBUG, logger=receive_log.name):
            await server.speak({alice: tone(300, 1.0)})
            await wait_for_audio(heard, {alice: 0.9})
        received = np.frombuffer(bytes(heard[alice]), dtype="<i2")
        assert len(received) >= 0.9 * SAMPLE_RATE
        assert np.abs(received).max() < 50  # silence, not garbage decoded as sound
        reader = voice._reader
        assert reader.decryptor.failures >= 40
        logged = "\n".join(record.getMessage() for record in caplog.records)
        assert "DAVE decrypt failed" in logged
        assert "\\x" not in logged and "bytearray" not in logged  # no packet bytes, no key

    receive(fake_discord, server, ["alice"], scenario)


@pytest.mark.parametrize("passthrough", [True, False])
def test_during_a_dave_transition_unencrypted_frames_pass_only_in_passthrough_mode(
    fake_discord: FakeDiscord, passthrough: bool
) -> None:
    server = VoiceServer(dave=True)
    alice = fake_discord.world.user("alice").id

    async def scenario(voice: DaveVoiceRecvClient, server: VoiceServer, heard: dict[int, bytearray]) -> None:
        # A member whose client is between protocol versions sends plain Opus inside the DAVE call;
        # discord.py turns passthrough on for such transitions.
        server.speakers[alice].dave = None
        assert server.bot_session is not None
        server.bot_session.set_passthrough_mode(passthrough, 10)
        await server.speak({alice: tone(300, 1.0)})
        await wait_for_audio(heard, {alice: 0.9})
        received = bytes(heard[alice])
        stats = server.bot_session.get_decryption_stats(alice)
        assert stats is not None
        if passthrough:
            assert dominant_hz(received) == pytest.approx(300, abs=5)
            assert stats.passthroughs >= 40
        else:
            assert np.abs(np.frombuffer(received, dtype="<i2")).max() < 50
            assert voice._reader.decryptor.failures >= 40

    receive(fake_discord, server, ["alice"], scenario)
