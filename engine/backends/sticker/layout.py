"""Where the character and the caption go, for any frame shape from 128 to 1024 pixels a side."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Layout:
    """Positions in output pixels. The face's numbers are its rest pose; motion moves it from there."""

    width: int
    height: int
    face_x: float
    face_y: float
    face_r: float
    caption_box: tuple[int, int, int, int]
    """left, top, right, bottom."""

    @property
    def short_side(self) -> int:
        return min(self.width, self.height)


def layout_for(width: int, height: int) -> Layout:
    """Caption along the bottom (where memes put it), the face centred in the space above.

    Portrait frames give the caption a smaller share of their height, because their width, not the
    band's height, limits how big the words can be.
    """
    aspect = width / height
    if aspect >= 1.2:
        caption_share = 0.24
    elif aspect <= 0.83:
        caption_share = 0.2
    else:
        caption_share = 0.25
    margin = max(4, round(min(width, height) * 0.03))
    caption_h = round(height * caption_share)
    caption_box = (margin, height - caption_h - margin, width - margin, height - margin // 2)
    area_h = height - caption_h - margin
    face_r = min(width * 0.33, area_h * 0.36)
    face_y = area_h * 0.56
    return Layout(width, height, width / 2, face_y, face_r, caption_box)
