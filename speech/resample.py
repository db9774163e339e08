"""Discord's decoded voice (48 kHz stereo s16le) to what VAD and Vosk take (16 kHz mono s16le).

A stream arrives in 20 ms chunks. Filtering each chunk on its own would click at every edge, so a
``Downsampler`` keeps its low-pass filter's state between chunks: one per speaker.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import firwin, lfilter, lfilter_zi

from reactclip.speech.pcm import SAMPLE_RATE

DISCORD_RATE = 48_000
DISCORD_CHANNELS = 2

_TAPS = firwin(63, 7_000, fs=DISCORD_RATE)
"""Low-pass below the new Nyquist (8 kHz) so that decimating by 3 does not alias."""


class Downsampler:
    """48 kHz interleaved stereo s16le in, 16 kHz mono s16le out, for one continuous stream."""

    def __init__(self, channels: int = DISCORD_CHANNELS) -> None:
        self.channels = channels
        self._step = DISCORD_RATE // SAMPLE_RATE
        self._state = lfilter_zi(_TAPS, 1.0) * 0.0
        self._phase = 0

    def convert(self, pcm: bytes) -> bytes:
        frame_bytes = 2 * self.channels
        if len(pcm) % frame_bytes:
            raise ValueError(f"PCM must hold whole {self.channels}-channel s16le frames")
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
        mono = samples.reshape(-1, self.channels).mean(axis=1)
        filtered, self._state = lfilter(_TAPS, 1.0, mono, zi=self._state)
        kept = filtered[self._phase :: self._step]
        self._phase = (self._phase - len(mono)) % self._step
        return np.clip(np.round(kept), -32768, 32767).astype("<i2").tobytes()
