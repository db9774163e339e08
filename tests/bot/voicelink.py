"""The voice server's side of an established Discord voice connection, for tests: what the voice
gateway handshake would have given the bot (mode, secret key, SSRCs, a DAVE group), and speakers
whose audio goes to the bot's UDP socket as Discord sends it.

Everything on the wire is real: Opus frames from libopus (discord.py's encoder), DAVE frames from
davey sessions that joined one MLS group, RTP packets sealed with aead_xchacha20_poly1305_rtpsize
(PyNaCl) and sent over UDP on 127.0.0.1. What is skipped is the handshake itself (the voice
websocket, IP discovery, and the MLS messages passing through it): ``attach`` sets its results.

The DAVE group: the test plays Discord's voice server as the MLS external sender. It signs Add
proposals (RFC 9420 PublicMessage, sender type external) for the speakers' key packages; the bot's
session commits them and the speakers join from the Welcome, exactly the messages of DAVE opcodes
25-30.
"""

from __future__ import annotations

import asyncio
import os
import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

import davey
import discord
import nacl.secret
import numpy as np
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from discord.voice_state import ConnectionFlowState
from scipy.signal import resample_poly

MODE = "aead_xchacha20_poly1305_rtpsize"
FRAME_SAMPLES = 960  # 20 ms at 48 kHz
MLS_VERSION, PUBLIC_MESSAGE, EXTERNAL, PROPOSAL, ADD, BASIC_CREDENTIAL = 1, 1, 2, 2, 1, 1


def _varint(n: int) -> bytes:
    """MLS's variable-length integer (RFC 9420, 2.1.2)."""
    if n < 1 << 6:
        return bytes([n])
    if n < 1 << 14:
        return struct.pack(">H", 0x4000 | n)
    return struct.pack(">I", 0x80000000 | n)


def _vector(data: bytes) -> bytes:
    return _varint(len(data)) + data


class ExternalSender:
    """Discord's voice server in DAVE: the MLS external sender that proposes who joins the group."""

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        public = self._key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        # ExternalSender { signature_key, Credential { basic, identity } } (DAVE opcode 25).
        self.package = _vector(public) + struct.pack(">H", BASIC_CREDENTIAL) + _vector(b"")

    def add_proposals(self, channel_id: int, key_packages: list[bytes]) -> bytes:
        """DAVE opcode 27's proposal messages: one signed Add per key package, for epoch 0."""
        messages = b""
        for key_package in key_packages:
            content = (
                _vector(channel_id.to_bytes(8, "big"))  # group id
                + struct.pack(">QBI", 0, EXTERNAL, 0)  # epoch, sender type, sender index
                + _vector(b"")  # authenticated data
                + struct.pack(">BH", PROPOSAL, ADD)
                + key_package
            )
            framed = struct.pack(">HH", MLS_VERSION, PUBLIC_MESSAGE) + content
            to_sign = _vector(b"MLS 1.0 FramedContentTBS") + _vector(framed)
            signature = self._key.sign(to_sign, ec.ECDSA(hashes.SHA256()))
            messages += framed + _vector(signature)
        return _vector(messages)


def dave_group(
    channel_id: int, bot_id: int, speaker_ids: list[int]
) -> tuple[davey.DaveSession, dict[int, davey.DaveSession]]:
    """The bot's DAVE session and each speaker's, all in one MLS group for ``channel_id``."""
    server = ExternalSender()
    bot = davey.DaveSession(davey.DAVE_PROTOCOL_VERSION, bot_id, channel_id)
    speakers = {uid: davey.DaveSession(davey.DAVE_PROTOCOL_VERSION, uid, channel_id) for uid in speaker_ids}
    for session in (bot, *speakers.values()):
        session.set_external_sender(server.package)
    bot.get_serialized_key_package()
    proposals = server.add_proposals(
        channel_id, [session.get_serialized_key_package() for session in speakers.values()]
    )
    commit = bot.process_proposals(davey.ProposalsOperationType.append, proposals, speaker_ids)
    assert commit is not None and commit.welcome is not None
    bot.process_commit(commit.commit)
    for session in speakers.values():
        session.process_welcome(commit.welcome)
    assert bot.ready and all(session.ready for session in speakers.values())
    return bot, speakers


@dataclass
class Speaker:
    """One member's outgoing audio: their SSRC, Opus encoder, RTP counters and DAVE session."""

    user_id: int
    ssrc: int
    dave: davey.DaveSession | None
    encoder: discord.opus.Encoder = field(default_factory=discord.opus.Encoder)
    sequence: int = 0
    timestamp: int = 0
    nonce: int = 0

    def frames(self, pcm16k: bytes) -> Iterator[bytes]:
        """Opus frames (DAVE-encrypted when in a group) of 16 kHz mono PCM, 20 ms each."""
        samples = np.frombuffer(pcm16k, dtype="<i2").astype(np.float64)
        stereo = np.repeat(np.clip(np.round(resample_poly(samples, 3, 1)), -32768, 32767), 2)
        pcm48 = stereo.astype("<i2").tobytes()
        step = FRAME_SAMPLES * 4
        for start in range(0, len(pcm48) - step + 1, step):
            frame = self.encoder.encode(pcm48[start : start + step], FRAME_SAMPLES)
            yield self.dave.encrypt_opus(frame) if self.dave is not None else frame

    def packet(self, frame: bytes, secret_key: bytes) -> bytes:
        """``frame`` as Discord relays it: an RTP header with a one-element header extension (the
        audio level, as Discord clients send), the extension body and frame sealed with the
        transport key, and the 4-byte nonce at the end (rtpsize)."""
        header = struct.pack(">BBHII", 0x90, 0x78, self.sequence, self.timestamp, self.ssrc)
        extension_header, extension_body = b"\xbe\xde\x00\x01", b"\x10\x7f\x00\x00"
        nonce = struct.pack(">I", self.nonce) + bytes(20)
        sealed = (
            nacl.secret.Aead(secret_key)
            .encrypt(extension_body + frame, header + extension_header, nonce)
            .ciphertext
        )
        self.sequence = (self.sequence + 1) % (1 << 16)
        self.timestamp = (self.timestamp + FRAME_SAMPLES) % (1 << 32)
        self.nonce += 1
        return header + extension_header + sealed + nonce[:4]


class VoiceServer:
    """The far end of the bot's voice UDP socket."""

    def __init__(self, *, dave: bool = True) -> None:
        self.secret_key = os.urandom(32)
        self.dave = dave
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.bot_address: tuple[str, int] | None = None
        self.speakers: dict[int, Speaker] = {}
        self.bot_session: davey.DaveSession | None = None

    def attach(self, voice_client: discord.VoiceClient, speaker_ids: list[int]) -> None:
        """Give ``voice_client`` what a finished handshake would have: the mode and key (SESSION
        DESCRIPTION), a UDP socket, each speaker's SSRC (SPEAKING) and the DAVE group."""
        state = voice_client._connection
        bot_session, sessions = (None, {})
        if self.dave:
            bot_session, sessions = dave_group(voice_client.channel.id, voice_client.user.id, speaker_ids)
        self.bot_session = bot_session
        bot_socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        bot_socket.bind(("127.0.0.1", 0))
        bot_socket.setblocking(False)
        self.bot_address = bot_socket.getsockname()
        state.socket = bot_socket
        state.endpoint_ip, state.voice_port = self.socket.getsockname()
        state.mode = MODE
        state.secret_key = list(self.secret_key)
        state.dave_session = bot_session
        state.dave_protocol_version = davey.DAVE_PROTOCOL_VERSION if self.dave else 0
        state.state = ConnectionFlowState.connected
        state._socket_reader.resume()
        for index, user_id in enumerate(speaker_ids):
            self.speakers[user_id] = Speaker(user_id, 1000 + index, sessions.get(user_id))
            voice_client._add_ssrc(user_id, 1000 + index)  # type: ignore[attr-defined]

    def send(self, packet: bytes) -> None:
        assert self.bot_address is not None, "attach first"
        self.socket.sendto(packet, self.bot_address)

    async def speak(self, streams: dict[int, bytes], pace_s: float = 0.01) -> int:
        """Send each speaker's 16 kHz PCM, their packets interleaved as in a call, at twice real
        time: the receiver's jitter buffer holds 10 packets per speaker, and its router thread must
        keep up even on a busy machine. Returns the packets sent."""
        frames = {uid: list(self.speakers[uid].frames(pcm)) for uid, pcm in streams.items()}
        sent = 0
        for index in range(max(len(f) for f in frames.values())):
            for uid, speaker_frames in frames.items():
                if index < len(speaker_frames):
                    self.send(self.speakers[uid].packet(speaker_frames[index], self.secret_key))
                    sent += 1
            await asyncio.sleep(pace_s)
        return sent

    def close(self) -> None:
        self.socket.close()
