"""Looks that are cheap on a CPU: the flat cartoon default, a comic variant and pixel art.

Unknown style names fall back to cartoon, because the style is free text from users and the
sticker must always render.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PIL import Image, ImageOps


@dataclass(frozen=True)
class Style:
    name: str
    halftone: float = 0.05
    """Strength of the background's comic dots (0 = none)."""
    pixel_side: int = 0
    """Short side, in big pixels, of a pixel-art frame; 0 keeps full resolution."""
    posterize_bits: int = 8


CARTOON = Style("cartoon")
STYLES: dict[str, Style] = {
    "cartoon": CARTOON,
    "flat": Style("flat", halftone=0.0),
    "comic": Style("comic", halftone=0.14),
    "pixel art": Style("pixel art", halftone=0.0, pixel_side=120, posterize_bits=4),
}
ALIASES: dict[str, str] = {
    "pixel": "pixel art",
    "pixelart": "pixel art",
    "pixel-art": "pixel art",
    "8 bit": "pixel art",
    "8bit": "pixel art",
    "retro": "pixel art",
    "cartoony": "cartoon",
    "emoji": "cartoon",
    "sticker": "cartoon",
    "comic book": "comic",
    "pop art": "comic",
    "minimal": "flat",
}


def style_for(name: str) -> Style:
    key = " ".join(name.lower().replace("_", " ").replace("-", " ").split())
    key = ALIASES.get(key, ALIASES.get(key.replace(" ", ""), key))
    return STYLES.get(key, CARTOON)


def pixel_block(style: Style, width: int, height: int) -> int:
    """The size of one big pixel: a power of two, so it divides sides that are multiples of 16."""
    if not style.pixel_side:
        return 1
    ratio = min(width, height) / style.pixel_side
    return int(min(8, max(2, 2 ** round(math.log2(max(ratio, 1.0))))))


def pixelate(image: Image.Image, style: Style, block: int) -> Image.Image:
    """Average down to big pixels, cut the colour depth, and blow back up without smoothing."""
    small = image.reduce(block)
    if style.posterize_bits < 8:
        small = ImageOps.posterize(small, style.posterize_bits)
    return small.resize(image.size, Image.Resampling.NEAREST)
