"""encode_frames: frames in, bytes out, under the upload limit.

An encode that comes out over the limit is redone down a short, fixed ladder: lower quality first
(cheapest for the viewer), then half the frame rate, then smaller sizes. The result's notes say which
rung was needed, so the caller can tell the user why the clip looks rougher than asked.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from reactclip.engine.encode.errors import EncodeError
from reactclip.engine.encode.frames import check_frames, downscale, drop_frames
from reactclip.engine.encode.gif import GIF_COLOURS, encode_gif
from reactclip.engine.encode.mp4 import MP4_CRFS, encode_mp4
from reactclip.engine.encode.webp import WEBP_QUALITIES, encode_webp
from reactclip.engine.spec import OutputFormat

DISCORD_UPLOAD_LIMIT = 10 * 1024 * 1024
"""Discord's default per-file upload limit (servers with boosts allow more)."""

SCALES: tuple[float, ...] = (0.75, 0.5)
"""Size rungs tried after quality and frame rate, each at the lowest quality and halved rate."""


@dataclass(frozen=True)
class EncodedVideo:
    """Encoded bytes and what they hold; frames, size and fps may be lower than the input's when
    the clip had to shrink to fit (``notes`` says so, one short sentence per change)."""

    data: bytes
    format: OutputFormat
    frames: int
    width: int
    height: int
    fps: float
    notes: tuple[str, ...] = ()

    @property
    def size_bytes(self) -> int:
        return len(self.data)

    @property
    def duration_s(self) -> float:
        return self.frames / self.fps


@dataclass(frozen=True)
class _FormatLadder:
    encode: Callable[[np.ndarray, float, int], bytes]
    qualities: tuple[int, ...]
    quality_label: Callable[[int], str]


_LADDERS: dict[OutputFormat, _FormatLadder] = {
    OutputFormat.MP4: _FormatLadder(encode_mp4, MP4_CRFS, lambda crf: f"crf {crf}"),
    OutputFormat.GIF: _FormatLadder(encode_gif, GIF_COLOURS, lambda n: f"{n} colours"),
    OutputFormat.WEBP: _FormatLadder(encode_webp, WEBP_QUALITIES, lambda q: f"quality {q}"),
}


@dataclass(frozen=True)
class _Rung:
    quality: int
    frame_step: int = 1
    scale: float = 1.0


def _rungs(qualities: tuple[int, ...], frame_count: int) -> list[_Rung]:
    """Every quality at full rate and size, then the lowest quality at half rate (when there are
    frames to drop), then at each smaller scale."""
    lowest = qualities[-1]
    step = 2 if frame_count >= 4 else 1
    rungs = [_Rung(q) for q in qualities]
    if step > 1:
        rungs.append(_Rung(lowest, step))
    rungs.extend(_Rung(lowest, step, scale) for scale in SCALES)
    return rungs


def encode_frames(
    frames: np.ndarray, fps: float, fmt: OutputFormat | str, limit_bytes: int = DISCORD_UPLOAD_LIMIT
) -> EncodedVideo:
    """Encode uint8 RGB frames (n, h, w, 3), even sides, as ``fmt`` in at most ``limit_bytes``.

    Raises EncodeError for bad input, for an ffmpeg failure, and when even the last rung of the
    ladder is over the limit.
    """
    frames = check_frames(frames)
    if isinstance(fps, bool) or not isinstance(fps, int | float) or not math.isfinite(fps) or fps <= 0:
        raise EncodeError(f"fps must be a positive number, not {fps!r}")
    fps = float(fps)
    if isinstance(limit_bytes, bool) or not isinstance(limit_bytes, int) or limit_bytes <= 0:
        raise EncodeError(f"limit_bytes must be a positive whole number, not {limit_bytes!r}")
    try:
        fmt = OutputFormat(fmt)
    except ValueError:
        allowed = ", ".join(f.value for f in OutputFormat)
        raise EncodeError(f"format {fmt!r} is not one of {allowed}") from None

    ladder = _LADDERS[fmt]
    limit = human_size(limit_bytes)
    first_size = 0
    for rung in _rungs(ladder.qualities, len(frames)):
        clip, clip_fps = drop_frames(frames, fps, rung.frame_step)
        clip = downscale(clip, rung.scale)
        data = ladder.encode(clip, clip_fps, rung.quality)
        first_size = first_size or len(data)
        if len(data) <= limit_bytes:
            count, height, width, _ = clip.shape
            notes = _notes(rung, ladder, first_size, limit, clip_fps, count, width, height)
            return EncodedVideo(data, fmt, count, width, height, clip_fps, notes)
    raise EncodeError(
        f"the {fmt.value} clip is {human_size(first_size)} and still {human_size(len(data))} at the "
        f"lowest quality, frame rate and size tried; it cannot fit the {limit} limit"
    )


def _notes(
    rung: _Rung,
    ladder: _FormatLadder,
    first_size: int,
    limit: str,
    fps: float,
    frames: int,
    width: int,
    height: int,
) -> tuple[str, ...]:
    if rung == _Rung(ladder.qualities[0]):
        return ()
    notes = [f"the first encode was {human_size(first_size)}, over the {limit} limit"]
    if rung.quality != ladder.qualities[0]:
        notes.append(f"re-encoded at {ladder.quality_label(rung.quality)} to fit {limit}")
    if rung.frame_step > 1:
        notes.append(f"lowered the frame rate to {fps:g} fps ({frames} frames) to fit {limit}")
    if rung.scale < 1:
        notes.append(f"scaled down to {width}x{height} to fit {limit}")
    return tuple(notes)


def human_size(size: int) -> str:
    """Bytes as ``10.0 MiB`` or ``293.0 KiB`` (binary units, as Discord counts its limit)."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MiB"
    if size >= 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size} bytes"
