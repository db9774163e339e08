"""Real speech for tests: espeak-ng speaks, and the result is 16 kHz mono s16le, what recognition
and segmentation take. Plus silence and noise to put between utterances."""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from functools import cache

import numpy as np
from scipy.signal import resample_poly

from reactclip.speech.pcm import SAMPLE_RATE


@cache
def speak(text: str, voice: str = "en", words_per_minute: int = 160) -> bytes:
    """``text`` spoken by espeak-ng, as 16 kHz mono s16le."""
    if shutil.which("espeak-ng") is None:
        raise RuntimeError("espeak-ng is not installed: apt-get install -y espeak-ng (.ci/run does)")
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(words_per_minute), "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    with wave.open(io.BytesIO(wav)) as reader:
        rate = reader.getframerate()
        samples = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2").astype(np.float64)
    return _pcm(resample_poly(samples, SAMPLE_RATE, rate))


def silence(seconds: float) -> bytes:
    return bytes(2 * round(seconds * SAMPLE_RATE))


def noise(seconds: float, level: float = 300.0, seed: int = 0) -> bytes:
    """Quiet white noise: a room's hiss, which is not speech."""
    rng = np.random.default_rng(seed)
    return _pcm(rng.normal(0.0, level, round(seconds * SAMPLE_RATE)))


def _pcm(samples: np.ndarray) -> bytes:
    return np.clip(np.round(samples), -32768, 32767).astype("<i2").tobytes()
