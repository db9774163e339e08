"""Voice in from a Discord voice channel, as 16 kHz mono PCM per speaker. Everything Discord-specific
about receiving audio is here.

A packet goes through four steps:

1. discord-ext-voice-recv reads it from the voice UDP socket and removes the transport encryption
   (``aead_xchacha20_poly1305_rtpsize``, the session's secret key);
2. **DAVE**: since March 2026 the Opus frame inside is end-to-end encrypted as well. voice-recv
   0.5.2a179 does not know this, so ``DaveDecryptor`` adds the step it lacks: the frame goes
   through the sender's decryptor of the DAVE session that discord.py keeps for the call (the
   ``davey`` library, which discord.py uses to encrypt what it sends). A channel without E2EE
   (protocol version 0) skips the step; during a protocol transition davey's passthrough mode lets
   unencrypted frames through;
3. voice-recv's jitter buffer and Opus decoder (libopus through discord.py) turn frames into 48 kHz
   stereo PCM for the speaker the SSRC belongs to;
4. ``SpeakerPcmSink`` downsamples each speaker's stream to 16 kHz mono and hands it to the event
   loop.

Privacy: audio is passed on, never kept or logged. voice-recv logs whole packets (and the secret
key) at debug level when one fails to decrypt, so its loggers are held at INFO here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import davey
import discord
from discord.ext import voice_recv
from discord.ext.voice_recv.reader import AudioReader, PacketDecryptor
from discord.ext.voice_recv.rtp import RTPPacket

from reactclip.speech.resample import Downsampler

log = logging.getLogger(__name__)
logging.getLogger("discord.ext.voice_recv").setLevel(logging.INFO)

OPUS_SILENCE = b"\xf8\xff\xfe"
"""An Opus frame of silence: what a frame that cannot be decrypted becomes, so the decoder and the
speaker's timing go on without garbage."""

PcmHandler = Callable[[int, bytes], None]
"""Called on the event loop with a speaker's user id and their next 16 kHz mono PCM."""


def opus_problem() -> str | None:
    """Why Opus frames cannot be decoded on this host (libopus missing), or None."""
    try:
        discord.opus.Decoder()
    except discord.opus.OpusNotLoaded:
        return "libopus is not installed on the bot's host (apt-get install libopus0)"
    return None


class DaveDecryptor(PacketDecryptor):
    """voice-recv's transport decryptor followed by the DAVE step (see the module's docstring)."""

    def __init__(self, voice_client: voice_recv.VoiceRecvClient) -> None:
        super().__init__(voice_client.mode, bytes(voice_client.secret_key))
        self.voice_client = voice_client
        self.failures = 0
        transport = self.decrypt_rtp
        self.decrypt_rtp = lambda packet: self.decrypt_dave(packet, transport(packet))

    def decrypt_dave(self, packet: RTPPacket, frame: bytes) -> bytes:
        """``frame`` (transport-decrypted) without its DAVE layer."""
        state = self.voice_client._connection
        session: davey.DaveSession | None = state.dave_session
        if session is None or not state.dave_protocol_version:
            return frame
        user_id = self.voice_client._get_id_from_ssrc(packet.ssrc)
        if user_id is None:
            return OPUS_SILENCE  # no SPEAKING event for this SSRC yet: whose key is unknown
        try:
            return bytes(session.decrypt(user_id, davey.MediaType.audio, frame))
        except Exception as exc:  # davey raises plain exceptions for a frame it cannot open
            self.failures += 1
            log.debug("DAVE decrypt failed for ssrc %s: %s", packet.ssrc, type(exc).__name__)
            return OPUS_SILENCE


class DaveAudioReader(AudioReader):
    """voice-recv's reader with ``DaveDecryptor`` in place of its transport-only decryptor."""

    def __init__(self, sink: voice_recv.AudioSink, voice_client: voice_recv.VoiceRecvClient, **kwargs: Any):
        super().__init__(sink, voice_client, **kwargs)
        self.decryptor = DaveDecryptor(voice_client)


class DaveVoiceRecvClient(voice_recv.VoiceRecvClient):
    """A voice client that receives DAVE-encrypted audio: ``listen`` as voice-recv's, with the
    DAVE-aware reader. Connect with ``channel.connect(cls=DaveVoiceRecvClient)``."""

    def listen(
        self, sink: voice_recv.AudioSink, *, after: Callable[[Exception | None], Any] | None = None
    ) -> None:
        if not self.is_connected():
            raise discord.ClientException("Not connected to voice.")
        if self.is_listening():
            raise discord.ClientException("Already receiving audio.")
        self._reader = DaveAudioReader(sink, self, after=after)
        self._reader.start()


class SpeakerPcmSink(voice_recv.AudioSink):
    """Decoded audio per speaker, downsampled to 16 kHz mono and handed to ``on_pcm`` on ``loop``.
    ``write`` runs on voice-recv's router thread, hence the thread-safe hand-over."""

    def __init__(self, on_pcm: PcmHandler, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._on_pcm = on_pcm
        self._loop = loop
        self._downsamplers: dict[int, Downsampler] = {}

    def wants_opus(self) -> bool:
        return False

    def write(self, user: discord.abc.User | None, data: voice_recv.VoiceData) -> None:
        vc = self.voice_client
        user_id = user.id if user is not None else vc._get_id_from_ssrc(data.packet.ssrc) if vc else None
        if user_id is None or not data.pcm:
            return
        downsampler = self._downsamplers.get(user_id)
        if downsampler is None:
            downsampler = self._downsamplers[user_id] = Downsampler()
        pcm = downsampler.convert(data.pcm)
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._on_pcm, user_id, pcm)

    @voice_recv.AudioSink.listener()
    def on_voice_member_disconnect(self, member: discord.Member | None, ssrc: int | None) -> None:
        if member is not None:
            self._downsamplers.pop(member.id, None)

    def cleanup(self) -> None:
        self._downsamplers.clear()
