"""Run the ffmpeg binary that imageio-ffmpeg ships, with frames on stdin and failures as EncodeError.

Every format encoder goes through :func:`encode_raw_frames`, so timeouts, temporary files and error
messages are handled in one place.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import imageio_ffmpeg
import numpy as np

from reactclip.engine.encode.errors import EncodeError

FFMPEG_TIMEOUT_S = 60.0
"""A 16-frame 480p clip encodes in well under a second; a minute means ffmpeg is stuck."""

ENCODE_THREADS = min(os.cpu_count() or 1, 4)
"""Short clips gain nothing from more threads, and encodes share the host with other work."""


@functools.cache
def ffmpeg_exe() -> str:
    """Path to the ffmpeg binary (imageio-ffmpeg's own, or IMAGEIO_FFMPEG_EXE if set)."""
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as exc:
        raise EncodeError(f"ffmpeg is not available: {exc}") from exc


@functools.cache
def has_encoder(name: str) -> bool:
    """Whether this ffmpeg build has the encoder ``name`` (asked once per name, then cached)."""
    listing = run_ffmpeg(["-hide_banner", "-encoders"]).decode("utf-8", "replace")
    # Lines read " V....D libx264   libx264 H.264 / AVC ...": flags, then the encoder's name.
    names = {parts[1] for parts in (line.split() for line in listing.splitlines()) if len(parts) > 1}
    return name in names


def run_ffmpeg(args: Sequence[str], stdin: bytes | None = None, timeout: float = FFMPEG_TIMEOUT_S) -> bytes:
    """Run ffmpeg with ``args`` and return its stdout; any failure becomes an EncodeError that quotes
    the last line of ffmpeg's stderr (the line that names the problem), not the whole log."""
    command = [ffmpeg_exe(), *args]
    try:
        result = subprocess.run(command, input=stdin, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise EncodeError(f"ffmpeg took longer than {timeout:g} s and was stopped") from exc
    except OSError as exc:
        raise EncodeError(f"ffmpeg could not be started: {exc}") from exc
    if result.returncode != 0:
        raise EncodeError(f"ffmpeg failed (exit {result.returncode}): {last_line(result.stderr)}")
    return result.stdout


_CONTEXT_PREFIX = re.compile(r"^(\[[^\]]*\]\s*)+")
"""ffmpeg's "[vost#0:0 @ 0x55d6e16623c0] " prefixes, which mean nothing to a reader."""


def last_line(stderr: bytes) -> str:
    """The last non-empty line of ffmpeg's stderr without its context prefix, or a placeholder."""
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    return _CONTEXT_PREFIX.sub("", lines[-1]) if lines else "no error message"


def encode_raw_frames(frames: np.ndarray, fps: float, output_args: Sequence[str], suffix: str) -> bytes:
    """Feed uint8 RGB frames (n, h, w, 3) to ffmpeg as raw rgb24 and return the encoded file's bytes.

    The output goes to a file in a temporary directory rather than to stdout because some muxer
    options (MP4's ``+faststart``) need a seekable output; the directory is removed, also on errors.
    """
    count, height, width, _ = frames.shape
    input_args = [
        "-hide_banner",
        "-loglevel",
        "error",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-s",
        f"{width}x{height}",
        "-r",
        format_rate(fps),
        "-i",
        "-",
    ]
    with tempfile.TemporaryDirectory(prefix="reactclip-encode-") as folder:
        out = Path(folder) / f"clip.{suffix}"
        run_ffmpeg(
            [*input_args, "-frames:v", str(count), "-threads", str(ENCODE_THREADS), *output_args, str(out)],
            stdin=np.ascontiguousarray(frames).tobytes(),
        )
        if not out.is_file():
            raise EncodeError("ffmpeg finished but wrote no output")
        return out.read_bytes()


def format_rate(fps: float) -> str:
    """A frame rate as ffmpeg reads it: ``12`` rather than ``12.0``, up to 6 significant digits."""
    return f"{fps:.6g}"
