"""Any audio a person can send -> 16 kHz mono s16le PCM, through the ffmpeg that imageio-ffmpeg
ships, streamed through pipes: the bytes go in on stdin, PCM comes out on stdout, nothing touches
the disk.

ffmpeg may read only from its pipe and only with audio demuxers (a playlist or concat file could
otherwise make it open other files or URLs). Limits hold at every step: the input size before
anything is read, the duration while PCM comes out (ffmpeg itself stops just past the limit, so a
tiny file that decodes to hours of silence costs nothing), and the wall-clock time of the decode.
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
from pathlib import Path
from typing import IO

import imageio_ffmpeg

from reactclip.speech.errors import (
    AudioError,
    AudioTooLarge,
    AudioTooLong,
    DecodeTimeout,
    EmptyAudio,
    NotAudio,
    TruncatedAudio,
)
from reactclip.speech.integrity import cut_off
from reactclip.speech.pcm import BYTES_PER_SECOND, CHANNELS, SAMPLE_RATE
from reactclip.speech.settings import SpeechSettings

DEMUXERS = "ogg,mp3,mov,wav,matroska,flac,aac"
"""OGG/Opus voice messages, MP3, M4A (mov), WAV, WebM (matroska), FLAC and raw AAC."""
READ_CHUNK = 64 * 1024
STDERR_KEEP = 16 * 1024
TRUNCATION_SIGNS = (
    "File ended prematurely",
    "moov atom not found",
    "Error opening input: End of file",
)
"""What ffmpeg says when a container ends before it said it would (see integrity.py for the rest)."""
NO_AUDIO_SIGNS = ("matches no streams",)


def decode_audio(source: bytes | Path, settings: SpeechSettings | None = None) -> bytes:
    """The audio of ``source`` (the file's bytes, or its path) as 16 kHz mono s16le PCM.

    Raises an AudioError subclass for input that can't be used (empty, not audio, cut off, too
    large, too long) and DecodeTimeout when ffmpeg takes longer than ``decode_timeout_s``."""
    settings = settings or SpeechSettings()
    data = _read_limited(source, settings.max_audio_bytes)
    if not data:
        raise EmptyAudio()
    if cut_off(data):
        raise TruncatedAudio()
    pcm, stderr = _run_ffmpeg(data, settings.max_duration_s, settings.decode_timeout_s)
    if len(pcm) > settings.max_duration_s * BYTES_PER_SECOND:
        raise AudioTooLong(settings.max_duration_s)
    if any(sign in stderr for sign in TRUNCATION_SIGNS):
        raise TruncatedAudio()
    if not pcm:
        if any(sign in stderr for sign in NO_AUDIO_SIGNS):
            raise NotAudio("that file has no sound in it")
        if stderr:
            raise NotAudio()
        raise EmptyAudio("that audio has no sound in it")
    return pcm


def _read_limited(source: bytes | Path, limit: int) -> bytes:
    """The input's bytes, refused before reading when larger than ``limit``."""
    if isinstance(source, bytes):
        if len(source) > limit:
            raise AudioTooLarge(len(source), limit)
        return source
    try:
        size = source.stat().st_size
        if size > limit:
            raise AudioTooLarge(size, limit)
        return source.read_bytes()
    except OSError as exc:
        raise AudioError(f"can't read {source.name}: {exc.strerror or exc}") from None


def ffmpeg_command(max_duration_s: float) -> list[str]:
    return [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-hide_banner",
        "-loglevel",
        "warning",
        "-protocol_whitelist",
        "pipe",
        "-format_whitelist",
        DEMUXERS,
        "-i",
        "pipe:0",
        "-map",
        "0:a:0",
        # One second past the limit: enough to tell "too long" apart, never hours of output.
        "-t",
        f"{max_duration_s + 1:g}",
        "-ac",
        str(CHANNELS),
        "-ar",
        str(SAMPLE_RATE),
        "-f",
        "s16le",
        "pipe:1",
    ]


def _run_ffmpeg(data: bytes, max_duration_s: float, timeout_s: float) -> tuple[bytes, str]:
    """ffmpeg's stdout and the start of its stderr. stdin is fed and stderr drained in threads
    while stdout is read here, so no pipe fills up and stalls the others."""
    process = subprocess.Popen(
        ffmpeg_command(max_duration_s),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    timed_out = threading.Event()

    def expire() -> None:
        timed_out.set()
        process.kill()

    timer = threading.Timer(timeout_s, expire)
    stderr: list[bytes] = []
    helpers = [
        threading.Thread(target=_feed, args=(process.stdin, data), daemon=True),
        threading.Thread(target=_drain, args=(process.stderr, stderr), daemon=True),
    ]
    timer.start()
    try:
        for helper in helpers:
            helper.start()
        pcm = _read_all(process.stdout)
        process.wait()
    finally:
        timer.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()
        for helper in helpers:
            helper.join()
        process.stdout.close()
    if timed_out.is_set():
        raise DecodeTimeout(timeout_s)
    return pcm, b"".join(stderr).decode("utf-8", "replace")


def _feed(pipe: IO[bytes], data: bytes) -> None:
    # ffmpeg closes its end once it has enough (-t) or gives up on the input: not an error here.
    with contextlib.suppress(BrokenPipeError):
        try:
            pipe.write(data)
        finally:
            pipe.close()


def _drain(pipe: IO[bytes], kept: list[bytes]) -> None:
    size = 0
    for line in pipe:
        if size < STDERR_KEEP:
            kept.append(line)
            size += len(line)
    pipe.close()


def _read_all(pipe: IO[bytes]) -> bytes:
    chunks = []
    while chunk := pipe.read(READ_CHUNK):
        chunks.append(chunk)
    return b"".join(chunks)
