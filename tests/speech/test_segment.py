"""Segmentation on PCM streams: real speech (espeak-ng), silence and noise through the real
webrtcvad; and the 48 kHz stereo to 16 kHz mono step in front of it."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from reactclip.speech.pcm import duration_s as seconds_of
from reactclip.speech.resample import Downsampler
from reactclip.speech.segment import SegmentSettings, SpeakerSegmenters, Utterance

sys.path.insert(0, str(Path(__file__).parent))
from spoken import noise, silence, speak

FIRST = "reaction, a cat dancing on the table"
SECOND = "we won the finals"


def durations(utterances: list[Utterance]) -> list[float]:
    return [round(u.duration_s, 2) for u in utterances]


def test_two_sentences_between_silences_are_two_utterances_holding_their_speech() -> None:
    first, second = speak(FIRST), speak(SECOND)
    segmenters = SpeakerSegmenters()
    stream = silence(1.0) + first + silence(1.0) + second + silence(1.0)
    utterances = segmenters.feed("alice", stream, now=0.0) + segmenters.flush_all()
    assert len(utterances) == 2, durations(utterances)
    for utterance, spoken in zip(utterances, (first, second), strict=True):
        assert utterance.speaker == "alice"
        # The whole sentence, plus at most the padding before and the hangover after it.
        assert seconds_of(spoken) - 0.5 <= utterance.duration_s <= seconds_of(spoken) + 1.0


@pytest.mark.parametrize("level", [0.0, 100.0, 300.0])
def test_silence_and_room_noise_alone_make_no_utterance(level: float) -> None:
    segmenters = SpeakerSegmenters()
    stream = noise(5.0, level=level) if level else silence(5.0)
    assert segmenters.feed("alice", stream, now=0.0) + segmenters.flush_all() == []


def test_speech_shorter_than_half_a_second_is_dropped() -> None:
    word = speak("cat")
    clipped = word[: len(word) // 2]  # espeak pads with silence; half of it holds < 0.3 s of voice
    segmenters = SpeakerSegmenters()
    assert segmenters.feed("alice", silence(1.0) + clipped + silence(1.0), now=0.0) == []
    assert segmenters.flush_all() == []
    # The same settings keep the whole word's sentence: the drop is about length, not the voice.
    kept = segmenters.feed("alice", silence(1.0) + speak(SECOND) + silence(1.0), now=1.0)
    assert len(kept) == 1


def test_speech_longer_than_the_maximum_is_cut_and_nothing_is_lost() -> None:
    long = b"".join(speak("this sentence keeps going and going without a pause") for _ in range(6))
    assert seconds_of(long) > 16
    settings = SegmentSettings(max_s=6.0)
    segmenters = SpeakerSegmenters(settings)
    utterances = segmenters.feed("alice", long, now=0.0) + segmenters.flush_all()
    assert len(utterances) >= 3, durations(utterances)
    assert all(u.duration_s <= settings.max_s + 1e-9 for u in utterances)
    assert utterances[0].duration_s == pytest.approx(settings.max_s, abs=0.031)
    assert sum(u.duration_s for u in utterances) >= seconds_of(long) - 2.0


def test_one_speakers_silence_closes_only_their_own_utterance() -> None:
    speech = speak(FIRST)
    segmenters = SpeakerSegmenters()
    chunk = 640 * 10  # 200 ms
    closed: list[Utterance] = []
    # alice speaks while bob is silent, chunk by chunk, as two Discord streams interleave.
    for index, start in enumerate(range(0, len(speech), chunk)):
        closed += segmenters.feed("alice", speech[start : start + chunk], now=index * 0.2)
        closed += segmenters.feed("bob", silence(0.2), now=index * 0.2)
    assert closed == []  # bob's silence did not close alice's utterance
    closed += segmenters.feed("alice", silence(1.0), now=10.0)
    assert [u.speaker for u in closed] == ["alice"]
    assert closed[0].duration_s >= seconds_of(speech) - 0.5


def test_a_speaker_who_stops_sending_is_closed_after_the_idle_time() -> None:
    segmenters = SpeakerSegmenters(idle_s=0.5)
    assert segmenters.feed("alice", silence(0.5) + speak(SECOND), now=100.0) == []
    assert segmenters.feed("bob", silence(0.5) + speak(FIRST), now=100.4) == []
    assert segmenters.close_idle(now=100.45) == []  # nobody quiet long enough yet
    [alice] = segmenters.close_idle(now=100.6)
    assert alice.speaker == "alice" and alice.duration_s >= 1.0
    [bob] = segmenters.close_idle(now=101.0)
    assert bob.speaker == "bob"


def test_an_utterance_never_shows_its_audio_in_a_repr() -> None:
    utterance = Utterance("alice", speak(SECOND))
    assert "\\x" not in repr(utterance) and len(repr(utterance)) < 100


def _tone(frequency: float, seconds: float, rate: int) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return 8000 * np.sin(2 * np.pi * frequency * t)


def _stereo(samples: np.ndarray) -> bytes:
    return np.repeat(np.round(samples), 2).astype("<i2").tobytes()


def _loudness(pcm: bytes) -> float:
    return float(np.sqrt(np.mean(np.frombuffer(pcm, dtype="<i2").astype(np.float64)[200:] ** 2)))


def test_48k_stereo_becomes_16k_mono_keeping_speech_band_and_dropping_what_would_alias() -> None:
    speech_band = Downsampler().convert(_stereo(_tone(1000, 1.0, 48_000)))
    assert len(speech_band) == 2 * 16_000
    spectrum = np.abs(np.fft.rfft(np.frombuffer(speech_band, dtype="<i2")))
    assert np.argmax(spectrum) == pytest.approx(1000, abs=2)  # 1 Hz per bin over one second
    assert _loudness(speech_band) > 5000
    # 12 kHz cannot exist at 16 kHz; unfiltered it would fold back to 4 kHz at full strength.
    assert _loudness(Downsampler().convert(_stereo(_tone(12_000, 1.0, 48_000)))) < 300


def test_20ms_chunks_downsample_exactly_like_the_whole_stream() -> None:
    stream = _stereo(_tone(440, 0.5, 48_000) + _tone(2500, 0.5, 48_000))
    whole = Downsampler().convert(stream)
    chunked = Downsampler()
    step = 4 * 1001  # chunks that do not split evenly into thirds test the decimation phase
    pieces = b"".join(chunked.convert(stream[i : i + step]) for i in range(0, len(stream), step))
    assert pieces == whole
