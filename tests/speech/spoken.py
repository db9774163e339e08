"""Real speech for tests: espeak-ng speaks, and the result is 16 kHz mono s16le, what recognition
and segmentation take. Plus silence and noise to put between utterances."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import wave
from functools import cache
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

from reactclip.speech.pcm import SAMPLE_RATE

sys.path.insert(0, str(Path(__file__).parents[1]))
from skipping import SPEECH_FLAG, require


@cache
def speak(text: str, voice: str = "en", words_per_minute: int = 160) -> bytes:
    """``text`` spoken by espeak-ng, as 16 kHz mono s16le."""
    require(
        None if shutil.which("espeak-ng") else "espeak-ng is not installed",
        SPEECH_FLAG,
        "apt-get install espeak-ng",
    )
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
