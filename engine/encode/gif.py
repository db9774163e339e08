"""GIF: one palette for the whole clip, looping forever.

A per-clip palette (palettegen over every frame) keeps colours stable from frame to frame, where
per-frame palettes flicker; ordered (bayer) dithering compresses far better than error diffusion.

Frames are first rounded to 5 bits per channel (RGB555). palettegen and paletteuse keep a hash of
every distinct colour, and on grainy frames (diffusion output, noise) millions of colours make them
take 20 s instead of well under one; a 256-colour dithered GIF cannot show the difference.
"""

from __future__ import annotations

import numpy as np

from reactclip.engine.encode.ffmpeg import encode_raw_frames

GIF_COLOURS: tuple[int, ...] = (256, 128, 64, 32)
"""Quality rungs, best first: palette sizes."""


# Each channel to the middle of its 8-wide bucket (0-7 -> 4, 248-255 -> 252), so rounding adds no bias.
_RGB555 = "lutrgb=" + ":".join(f"{c}='bitand(val,248)+4'" for c in "rgb")


def encode_gif(frames: np.ndarray, fps: float, colours: int = GIF_COLOURS[0]) -> bytes:
    """Encode uint8 RGB frames (n, h, w, 3) as a looping GIF with at most ``colours`` colours."""
    graph = (
        f"{_RGB555},split[a][b];[a]palettegen=max_colors={colours}:stats_mode=diff[p];"
        "[b][p]paletteuse=dither=bayer:bayer_scale=3:diff_mode=rectangle"
    )
    return encode_raw_frames(frames, fps, ["-vf", graph, "-loop", "0", "-f", "gif"], suffix="gif")
