"""Animated WebP, looping forever: ffmpeg's libwebp encoder where the build has it, else Pillow's."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from reactclip.engine.encode.ffmpeg import encode_raw_frames, has_encoder

WEBP_QUALITIES: tuple[int, ...] = (75, 55, 35, 15)
"""Quality rungs (libwebp's 0-100 lossy quality), best first."""

WEBP_METHOD = 2
"""libwebp's effort (0-6): 2 is about twice as fast as the default 4 for a few percent more bytes."""


def encode_webp(frames: np.ndarray, fps: float, quality: int = WEBP_QUALITIES[0]) -> bytes:
    """Encode uint8 RGB frames (n, h, w, 3) as a lossy animated WebP at ``quality``."""
    if has_encoder("libwebp_anim"):
        return encode_raw_frames(
            frames,
            fps,
            [
                "-c:v",
                "libwebp_anim",
                "-lossless",
                "0",
                "-quality",
                str(quality),
                "-compression_level",
                str(WEBP_METHOD),
                "-loop",
                "0",
            ],
            suffix="webp",
        )
    return encode_webp_pillow(frames, fps, quality)


def encode_webp_pillow(frames: np.ndarray, fps: float, quality: int = WEBP_QUALITIES[0]) -> bytes:
    """The same with Pillow, for ffmpeg builds without libwebp (frame durations are whole ms)."""
    images = [Image.fromarray(frame) for frame in frames]
    buffer = io.BytesIO()
    images[0].save(
        buffer,
        format="WEBP",
        save_all=True,
        append_images=images[1:],
        loop=0,
        duration=round(1000 / fps),
        quality=quality,
        method=WEBP_METHOD,
        lossless=False,
    )
    return buffer.getvalue()
