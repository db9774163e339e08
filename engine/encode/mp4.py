"""MP4: H.264 in yuv420p with the index up front, so that Discord and browsers play it inline."""

from __future__ import annotations

import numpy as np

from reactclip.engine.encode.ffmpeg import encode_raw_frames

MP4_CRFS: tuple[int, ...] = (23, 28, 34, 40)
"""Quality rungs, best first; each step roughly halves the size of a busy clip."""


def encode_mp4(frames: np.ndarray, fps: float, crf: int = MP4_CRFS[0]) -> bytes:
    """Encode uint8 RGB frames (n, h, w, 3) with even sides as an H.264 MP4 at ``crf``."""
    return encode_raw_frames(
        frames,
        fps,
        [
            # Untagged RGB->YUV would use BT.601 while players assume BT.709 for HD: convert and tag.
            "-vf",
            "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p",
            "-colorspace",
            "bt709",
            "-color_primaries",
            "bt709",
            "-color_trc",
            "bt709",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-profile:v",
            "high",
            "-crf",
            str(crf),
            "-pix_fmt",
            "yuv420p",
            # Index before data: players can start before the whole file has arrived.
            "-movflags",
            "+faststart",
            "-an",
        ],
        suffix="mp4",
    )
