"""The one PCM format inside ``speech/``: what decoding produces and recognition consumes.

16 kHz mono signed 16-bit little-endian is what Vosk's small models are trained on, so nothing is
resampled twice.
"""

from __future__ import annotations

SAMPLE_RATE = 16_000
CHANNELS = 1
SAMPLE_WIDTH = 2
"""Bytes per sample (s16le)."""
BYTES_PER_SECOND = SAMPLE_RATE * CHANNELS * SAMPLE_WIDTH


def duration_s(pcm: bytes) -> float:
    """Seconds of audio in ``pcm``."""
    return len(pcm) / BYTES_PER_SECOND
