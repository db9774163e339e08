"""A contact sheet: the middle frame of every clip of a batch in one PNG grid, each under its draft's
id, so a reviewer sees the whole day's drafts at a glance before opening any of them.

Frames are read back from the encoded clips with the ffmpeg imageio-ffmpeg ships (the same decoder
the tests use), so the sheet shows what was really written, not what the renderer meant to draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from PIL import Image, ImageDraw

THUMB_WIDTH = 192
COLUMNS = 5
LABEL_HEIGHT = 18
BACKGROUND = (24, 24, 28)
LABEL_COLOUR = (230, 230, 230)


def middle_frame(path: Path) -> Image.Image:
    """The clip's middle frame as an image."""
    reader = imageio_ffmpeg.read_frames(str(path))
    try:
        meta = next(reader)
        width, height = meta["size"]
        frames = [np.frombuffer(raw, np.uint8).reshape(height, width, 3) for raw in reader]
    finally:
        reader.close()
    if not frames:
        raise ValueError(f"{path} has no frames")
    return Image.fromarray(frames[len(frames) // 2])


def contact_sheet(clips: Sequence[tuple[str, Path]], out: Path) -> Path:
    """A grid of ``(label, clip path)`` thumbnails, COLUMNS wide, written to ``out`` as PNG."""
    if not clips:
        raise ValueError("no clips to put on a contact sheet")
    thumbs = []
    for label, path in clips:
        frame = middle_frame(path)
        height = round(frame.height * THUMB_WIDTH / frame.width)
        thumbs.append((label, frame.resize((THUMB_WIDTH, height))))
    cell_height = max(thumb.height for _, thumb in thumbs) + LABEL_HEIGHT
    columns = min(COLUMNS, len(thumbs))
    rows = -(-len(thumbs) // columns)
    sheet = Image.new("RGB", (columns * THUMB_WIDTH, rows * cell_height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    for index, (label, thumb) in enumerate(thumbs):
        x, y = index % columns * THUMB_WIDTH, index // columns * cell_height
        sheet.paste(thumb, (x, y))
        draw.text((x + 4, y + thumb.height + 3), label, fill=LABEL_COLOUR)
    sheet.save(out, format="PNG")
    return out
