"""Discord's voice server, for tests: speakers whose audio goes to the bot's UDP socket as Discord
sends it, and either the whole voice handshake (``VoiceGateway``) or, quicker, only its results
(``VoiceServer.attach``: mode, secret key, SSRCs, a DAVE group).

Everything on the wire is real: Opus frames from libopus (discord.py's encoder), DAVE frames from
davey sessions that joined one MLS group, RTP packets sealed with aead_xchacha20_poly1305_rtpsize
(PyNaCl) and sent over UDP on 127.0.0.1; with ``VoiceGateway``, also the voice websocket over TLS,
IP discovery over UDP, and the DAVE opcodes that carry the MLS messages.

The DAVE group: the test plays Discord's voice server as the MLS external sender. It signs Add
proposals (RFC 9420 PublicMessage, sender type external) for the speakers' key packages; the bot's
session commits them and the speakers join from the Welcome, exactly the messages of DAVE opcodes
25-30.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import os
import socket
import ssl
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import davey
import discord
import nacl.secret
import numpy as np
from aiohttp import WSMsgType, web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from discord.voice_state import ConnectionFlowState
from scipy.signal import resample_poly

MODE = "aead_xchacha20_poly1305_rtpsize"
FRAME_SAMPLES = 960  # 20 ms at 48 kHz
MLS_VERSION, PUBLIC_MESSAGE, EXTERNAL, PROPOSAL, ADD, BASIC_CREDENTIAL = 1, 1, 2, 2, 1, 1
# Voice gateway opcodes (v8) that the handshake uses.
IDENTIFY, SELECT_PROTOCOL, READY, HEARTBEAT, SESSION_DESCRIPTION, SPEAKING, HEARTBEAT_ACK, HELLO = (
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    8,
)
CLIENTS_CONNECT, DAVE_EXECUTE_TRANSITION, DAVE_TRANSITION_READY = 11, 22, 23
MLS_EXTERNAL_SENDER, MLS_KEY_PACKAGE, MLS_WELCOME = 25, 26, 30
JOIN_TRANSITION = 1
"""The DAVE transition that the bot's joining the group is: the bot says it is ready, then the
gateway executes it."""


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


def joining_sessions(
    server: ExternalSender, channel_id: int, user_ids: list[int]
) -> dict[int, davey.DaveSession]:
    """New DAVE sessions of ``user_ids`` for ``channel_id``, told who the external sender is."""
    sessions = {uid: davey.DaveSession(davey.DAVE_PROTOCOL_VERSION, uid, channel_id) for uid in user_ids}
    for session in sessions.values():
        session.set_external_sender(server.package)
    return sessions


def start_group(
    server: ExternalSender, channel_id: int, creator_id: int, others: dict[int, bytes]
) -> tuple[davey.DaveSession, bytes]:
    """An MLS group for ``channel_id``: ``creator_id``'s new session commits the Add proposals that
    ``server`` signs for the key packages of ``others`` (user id -> key package). Returns the
    creator's session and the Welcome that lets the others join."""
    creator = joining_sessions(server, channel_id, [creator_id])[creator_id]
    creator.get_serialized_key_package()
    proposals = server.add_proposals(channel_id, list(others.values()))
    commit = creator.process_proposals(davey.ProposalsOperationType.append, proposals, list(others))
    assert commit is not None and commit.welcome is not None
    creator.process_commit(commit.commit)
    return creator, commit.welcome


def dave_group(
    channel_id: int, bot_id: int, speaker_ids: list[int]
) -> tuple[davey.DaveSession, dict[int, davey.DaveSession]]:
    """The bot's DAVE session and each speaker's, all in one MLS group for ``channel_id``."""
    server = ExternalSender()
    speakers = joining_sessions(server, channel_id, speaker_ids)
    key_packages = {uid: session.get_serialized_key_package() for uid, session in speakers.items()}
    bot, welcome = start_group(server, channel_id, bot_id, key_packages)
    for session in speakers.values():
        session.process_welcome(welcome)
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


def self_signed_certificate(ip: str) -> tuple[bytes, bytes]:
    """A certificate for ``ip`` (PEM) and its key (PEM): discord.py reaches the voice gateway only
    over wss://."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake Discord voice gateway")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


class VoiceGateway:
    """Discord's voice gateway for one call, over TLS on 127.0.0.1: it takes a joining bot through
    the whole handshake, as Discord does (v8):

    IDENTIFY -> HELLO, READY (SSRC, UDP address, modes) -> IP discovery over UDP -> SELECT
    PROTOCOL -> SESSION DESCRIPTION (mode, key, DAVE version 1) -> the bot's key package (op 26)
    -> the external sender (op 25) and a Welcome (op 30) into the group the speakers start ->
    TRANSITION READY (op 23) -> EXECUTE TRANSITION (op 22), SPEAKING per speaker.

    Then ``joined`` is set, and ``server`` (whose UDP socket the bot found through discovery)
    sends the speakers' audio, DAVE-encrypted with their sessions of that group."""

    token = "fake-voice-token"

    def __init__(self, server: VoiceServer, channel_id: int, speaker_ids: list[int]) -> None:
        self.server = server
        self.channel_id = channel_id
        self.speaker_ids = speaker_ids
        self.identified: dict[str, Any] | None = None
        """The bot's IDENTIFY."""
        self.transitions_ready: list[int] = []
        self.joined = asyncio.Event()
        self.external_sender = ExternalSender()
        certificate, key = self_signed_certificate("127.0.0.1")
        self.server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory() as folder:  # load_cert_chain reads files only
            paths = Path(folder, "cert.pem"), Path(folder, "key.pem")
            paths[0].write_bytes(certificate)
            paths[1].write_bytes(key)
            self.server_tls.load_cert_chain(*paths)
        self.client_tls = ssl.create_default_context(cadata=certificate.decode())
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.endpoint = f"127.0.0.1:{self._socket.getsockname()[1]}"
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/", self._serve)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, self._socket, ssl_context=self.server_tls).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _serve(self, request: web.Request) -> web.WebSocketResponse:
        assert request.query.get("v") == "8", request.query
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        call = _VoiceCall(self, ws)
        async for message in ws:
            if message.type is WSMsgType.TEXT:
                await call.on_json(json.loads(message.data))
            elif message.type is WSMsgType.BINARY:
                await call.on_binary(message.data)
        return ws

    def discover(self) -> None:
        """Answer the bot's IP discovery on the UDP socket, and remember where it listens."""
        self.server.socket.settimeout(10)
        request, address = self.server.socket.recvfrom(74)
        assert len(request) == 74 and request[:4] == struct.pack(">HH", 1, 70), request
        ip = address[0].encode().ljust(64, b"\0")
        reply = struct.pack(">HH", 2, 70) + request[4:8] + ip + struct.pack(">H", address[1])
        self.server.socket.sendto(reply, address)
        self.server.bot_address = address


class _VoiceCall:
    """One bot's voice websocket: the handshake's state."""

    def __init__(self, gateway: VoiceGateway, ws: web.WebSocketResponse) -> None:
        self.gateway = gateway
        self.ws = ws
        self.sequence = 0

    async def send_json(self, op: int, data: dict[str, Any]) -> None:
        self.sequence += 1
        await self.ws.send_json({"op": op, "d": data, "seq": self.sequence})

    async def send_binary(self, op: int, payload: bytes) -> None:
        self.sequence += 1
        await self.ws.send_bytes(struct.pack(">HB", self.sequence, op) + payload)

    async def on_json(self, message: dict[str, Any]) -> None:
        op, data = message["op"], message.get("d")
        gateway = self.gateway
        if op == IDENTIFY:
            gateway.identified = data
            await self.send_json(HELLO, {"heartbeat_interval": 41_250})
            port = gateway.server.socket.getsockname()[1]
            await self.send_json(READY, {"ssrc": 999, "ip": "127.0.0.1", "port": port, "modes": [MODE]})
            await asyncio.to_thread(gateway.discover)
        elif op == HEARTBEAT:
            await self.send_json(HEARTBEAT_ACK, data)
        elif op == SELECT_PROTOCOL:
            assert data["data"]["mode"] == MODE, data
            secret_key = list(gateway.server.secret_key)
            await self.send_json(
                SESSION_DESCRIPTION,
                {
                    "mode": MODE,
                    "secret_key": secret_key,
                    "dave_protocol_version": davey.DAVE_PROTOCOL_VERSION,
                },
            )
        elif op == DAVE_TRANSITION_READY:
            gateway.transitions_ready.append(data["transition_id"])
            await self.send_json(DAVE_EXECUTE_TRANSITION, {"transition_id": data["transition_id"]})
            ids = [str(uid) for uid in gateway.speaker_ids]
            await self.send_json(CLIENTS_CONNECT, {"user_ids": ids})
            for uid, speaker in gateway.server.speakers.items():
                await self.send_json(SPEAKING, {"user_id": str(uid), "ssrc": speaker.ssrc, "speaking": 1})
            gateway.joined.set()

    async def on_binary(self, message: bytes) -> None:
        op, payload = message[0], message[1:]
        if op != MLS_KEY_PACKAGE:
            return
        # The bot's key package: the speakers start the call's group, with the bot in it.
        gateway = self.gateway
        await self.send_binary(MLS_EXTERNAL_SENDER, gateway.external_sender.package)
        creator_id, *others = gateway.speaker_ids
        sessions = joining_sessions(gateway.external_sender, gateway.channel_id, others)
        assert gateway.identified is not None, "a key package before IDENTIFY"
        bot_id = int(gateway.identified["user_id"])
        key_packages = {uid: session.get_serialized_key_package() for uid, session in sessions.items()}
        creator, welcome = start_group(
            gateway.external_sender, gateway.channel_id, creator_id, {**key_packages, bot_id: payload}
        )
        for session in sessions.values():
            session.process_welcome(welcome)
        sessions[creator_id] = creator
        for index, uid in enumerate(gateway.speaker_ids):
            gateway.server.speakers[uid] = Speaker(uid, 1000 + index, sessions[uid])
        await self.send_binary(MLS_WELCOME, struct.pack(">H", JOIN_TRANSITION) + welcome)
