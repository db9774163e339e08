"""Decoding: every format a person can send becomes 16 kHz mono PCM of the right length; bad input
gets its own clear error, and nothing is left on disk."""

from __future__ import annotations

import io
import os
import subprocess
import tempfile
import wave
from collections.abc import Callable
from pathlib import Path

import pytest

from reactclip.speech.decode import decode_audio
from reactclip.speech.errors import (
    AudioError,
    AudioTooLarge,
    AudioTooLong,
    DecodeTimeout,
    EmptyAudio,
    NotAudio,
    TruncatedAudio,
)
from reactclip.speech.pcm import BYTES_PER_SECOND
from reactclip.speech.settings import SpeechSettings

PHRASE = "we won the finals, this is amazing"


def wav_seconds(wav: bytes) -> float:
    with wave.open(io.BytesIO(wav)) as reader:
        return reader.getnframes() / reader.getframerate()


@pytest.mark.parametrize("fmt", ["ogg", "webm", "mp3", "m4a", "wav"])
def test_each_format_decodes_to_16k_mono_pcm_of_the_speech_length(
    say: Callable[..., bytes], fmt: str
) -> None:
    seconds = wav_seconds(say(PHRASE, "wav"))
    pcm = decode_audio(say(PHRASE, fmt))
    assert len(pcm) % 2 == 0
    # Lossy encoders pad a few tens of milliseconds; a wrong rate or channel count would be 2-6x off.
    assert len(pcm) / BYTES_PER_SECOND == pytest.approx(seconds, abs=0.1)
    samples = memoryview(pcm).cast("h")
    assert max(abs(s) for s in samples) > 1000  # speech, not silence


def test_a_path_decodes_like_its_bytes(say: Callable[..., bytes], tmp_path: Path) -> None:
    path = tmp_path / "voice-message.ogg"
    path.write_bytes(say(PHRASE))
    assert decode_audio(path) == decode_audio(say(PHRASE))


def test_decoding_leaves_no_file_behind(say: Callable[..., bytes]) -> None:
    before = set(os.listdir(tempfile.gettempdir()))
    decode_audio(say(PHRASE))
    with pytest.raises(TruncatedAudio):
        decode_audio(say(PHRASE)[:-500])
    assert set(os.listdir(tempfile.gettempdir())) == before


def test_empty_input_is_empty_audio() -> None:
    with pytest.raises(EmptyAudio, match="empty"):
        decode_audio(b"")


@pytest.mark.parametrize(
    "data",
    [os.urandom(20_000), b"just some text, not a recording\n" * 40, b"\x89PNG\r\n\x1a\n" + bytes(2000)],
    ids=["random-bytes", "text", "png-header"],
)
def test_non_audio_is_refused_as_not_audio(data: bytes) -> None:
    with pytest.raises(NotAudio, match="doesn't look like audio") as caught:
        decode_audio(data)
    assert "OGG/Opus" in str(caught.value)


@pytest.mark.parametrize("fmt", ["ogg", "webm", "wav", "m4a"])
@pytest.mark.parametrize("kept", [0.6, 0.05])
def test_a_cut_off_file_is_truncated_audio(say: Callable[..., bytes], fmt: str, kept: float) -> None:
    data = say(PHRASE, fmt)
    with pytest.raises(TruncatedAudio, match="cut off"):
        decode_audio(data[: int(len(data) * kept)])


def test_an_ogg_cut_exactly_at_a_page_boundary_is_truncated(say: Callable[..., bytes]) -> None:
    data = say(PHRASE)
    last_page = data.rindex(b"OggS")
    with pytest.raises(TruncatedAudio):
        decode_audio(data[:last_page])


def test_a_video_with_no_sound_track_is_not_audio() -> None:
    import imageio_ffmpeg

    source = "testsrc=duration=1:size=64x64:rate=8"
    video = subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            source,
            "-f",
            "matroska",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    with pytest.raises(NotAudio, match="no sound"):
        decode_audio(video)


def test_too_many_bytes_are_refused_before_decoding(say: Callable[..., bytes], tmp_path: Path) -> None:
    data = say(PHRASE)
    limits = SpeechSettings(max_audio_bytes=1024)
    with pytest.raises(AudioTooLarge, match="too large"):
        decode_audio(data, limits)
    path = tmp_path / "big.ogg"
    path.write_bytes(data)
    with pytest.raises(AudioTooLarge):
        decode_audio(path, limits)


def test_audio_over_the_duration_limit_is_too_long(say: Callable[..., bytes]) -> None:
    data = say(PHRASE)
    seconds = wav_seconds(say(PHRASE, "wav"))
    with pytest.raises(AudioTooLong, match="too long"):
        decode_audio(data, SpeechSettings(max_duration_s=seconds / 2))
    assert decode_audio(data, SpeechSettings(max_duration_s=seconds + 0.5))


def test_a_decode_slower_than_the_timeout_is_stopped(say: Callable[..., bytes]) -> None:
    with pytest.raises(DecodeTimeout, match="longer than"):
        decode_audio(say(PHRASE, "wav"), SpeechSettings(decode_timeout_s=0.001))


def test_an_unreadable_path_is_a_clear_audio_error(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match=r"can't read missing\.ogg"):
        decode_audio(tmp_path / "missing.ogg")


def test_silence_decodes_to_zeros_not_an_error(silence: bytes) -> None:
    pcm = decode_audio(silence)
    assert len(pcm) / BYTES_PER_SECOND == pytest.approx(2.0, abs=0.1)
    assert max(abs(s) for s in memoryview(pcm).cast("h")) < 50
