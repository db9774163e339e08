"""probe_video: decode an encoded clip with the same ffmpeg and say what it holds.

imageio-ffmpeg ships no ffprobe, so the clip is decoded in full and its frames counted; for 480p
clips of a few dozen frames this takes a fraction of a second.
"""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
from PIL import Image

from reactclip.engine.encode.errors import EncodeError
from reactclip.engine.spec import OutputFormat


@dataclass(frozen=True)
class VideoInfo:
    """What a decoder sees in a clip. ``loops`` is the GIF/WebP loop count (0 = forever), None for
    MP4, which has no loop flag (players loop it on their own)."""

    width: int
    height: int
    frames: int
    pix_fmt: str
    codec: str
    loops: int | None
    fps: float


def probe_video(data: bytes, fmt: OutputFormat | str) -> VideoInfo:
    """Decode ``data`` (a clip in ``fmt``) and describe it; EncodeError if ffmpeg cannot read it."""
    fmt = OutputFormat(fmt)
    with tempfile.TemporaryDirectory(prefix="reactclip-probe-") as folder:
        path = Path(folder) / f"clip.{fmt.value}"
        path.write_bytes(data)
        # Passthrough: count the frames stored, not the ones a constant-rate output would invent.
        reader = imageio_ffmpeg.read_frames(str(path), output_params=["-fps_mode", "passthrough"])
        try:
            meta = next(reader)
            frames = sum(1 for _ in reader)
        except (OSError, RuntimeError, StopIteration) as exc:
            raise EncodeError(f"ffmpeg cannot decode this {fmt.value}: {exc}") from exc
        finally:
            reader.close()
    width, height = meta["size"]
    return VideoInfo(
        width=width,
        height=height,
        frames=frames,
        # imageio-ffmpeg copies these from ffmpeg's log: "yuv420p(progressive)", "webp_anim,".
        pix_fmt=str(meta["pix_fmt"]).split("(")[0].strip(" ,"),
        codec=str(meta["codec"]).split()[0].strip(" ,"),
        loops=_loops(data) if fmt is not OutputFormat.MP4 else None,
        fps=float(meta["fps"]),
    )


def _loops(data: bytes) -> int | None:
    """The loop count GIF and WebP store in their headers, read with Pillow."""
    with Image.open(io.BytesIO(data)) as image:
        loop = image.info.get("loop")
    return int(loop) if loop is not None else None
