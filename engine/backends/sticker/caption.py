"""The caption: which words, how they wrap, and how they are drawn so they read on any background.

White letters with a thick dark stroke and a soft drop shadow (the meme look), in Pillow's bundled
scalable font, so no font files ship with the project. Long captions wrap to two lines and shrink.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from PIL import Image, ImageDraw, ImageFont

from reactclip.engine.backends.sticker.palette import Palette

MAX_PROMPT_CAPTION = 40
"""Characters of a prompt used as the caption when no caption is given."""
MIN_FONT = 9


MISSING_GLYPH_PROBE = "\U0010fffd"
"""A private-use code point no font draws: what a missing glyph looks like in the bundled font."""


@functools.lru_cache(maxsize=4096)
def _has_glyph(char: str) -> bool:
    font = _font(32)
    return bool(font.getmask(char).getbbox()) and bytes(font.getmask(char)) != bytes(
        font.getmask(MISSING_GLYPH_PROBE)
    )


FALLBACKS = str.maketrans(
    {"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L",
     "—": "-", "–": "-", "‘": "'", "’": "'", "“": '"', "”": '"'}
)  # fmt: skip


def drawable(text: str) -> str:
    """The text with what the bundled font cannot draw taken out: accented letters fall back to
    their base letter (é -> e), and emoji or scripts it lacks are dropped rather than shown as boxes.
    The font ships with Pillow, so the same caption gives the same pixels on every machine."""
    kept = []
    for char in unicodedata.normalize("NFKC", text).translate(FALLBACKS):
        if char.isspace() or _has_glyph(char):
            kept.append(" " if char.isspace() else char)
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        kept.extend(c for c in base if _has_glyph(c))
    return " ".join("".join(kept).split())


def caption_text(caption: str, prompt: str, limit: int = MAX_PROMPT_CAPTION) -> str:
    """The spec's caption (or, when there is none, the prompt cut at a word boundary with an
    ellipsis), drawable. A caption the font cannot draw at all gives no caption, not the prompt."""
    if caption.strip():
        return drawable(caption)
    return _cut("", drawable(prompt), limit)


def _cut(caption: str, prompt: str, limit: int) -> str:
    text = " ".join(caption.split())
    if text:
        return text
    text = " ".join(prompt.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return re.sub(r"[\s,;:.\-–—]+$", "", cut) + "…"


@functools.lru_cache(maxsize=64)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _stroke(size: int) -> int:
    return max(2, round(size * 0.12))


def _word_gap(size: int) -> float:
    # The stroke eats into the font's own space; widen it so words stay apart.
    return _font(size).getlength(" ") + _stroke(size)


def _line_width(line: str, size: int) -> float:
    font = _font(size)
    words = line.split(" ")
    return sum(font.getlength(w) for w in words) + _word_gap(size) * (len(words) - 1) + 2 * _stroke(size)


def _width(lines: list[str], size: int) -> float:
    return max(_line_width(line, size) for line in lines)


def wrap(text: str, lines: int) -> list[str]:
    """Split into ``lines`` lines (1 or 2), balancing their lengths at a word boundary."""
    words = text.split(" ")
    if lines == 1 or len(words) == 1:
        return [text]
    best = min(
        range(1, len(words)),
        key=lambda i: max(len(" ".join(words[:i])), len(" ".join(words[i:]))),
    )
    return [" ".join(words[:best]), " ".join(words[best:])]


def fit(text: str, box_w: int, box_h: int) -> tuple[list[str], int]:
    """The wrapping and the largest font size that fit the box; one line wins near-ties.

    If even the smallest size overflows (a long caption on a tiny frame), words are dropped from the
    end, with an ellipsis, until it fits.
    """
    while True:
        options = []
        for count in (1, 2):
            lines = wrap(text, count)
            size = int(box_h / (len(lines) * 1.18))
            while size > MIN_FONT and _width(lines, size) > box_w * 0.96:
                size = max(MIN_FONT, int(size * 0.92))
            fits = _width(lines, size) <= box_w * 0.96
            # Two lines must be clearly bigger to be worth the second line.
            options.append((fits, size * (1.12 if count == 1 else 1.0), lines, size))
        fits, _, lines, size = max(options, key=lambda o: (o[0], o[1]))
        words = text.rstrip("…").split(" ")
        if fits or len(words) <= 1:
            return lines, size
        text = " ".join(words[:-1]) + "…"


def render_caption(text: str, box_w: int, box_h: int, palette: Palette, pixel_block: int = 1) -> Image.Image:
    """An RGBA image of ``box_w`` x ``box_h`` with the caption centred.

    With ``pixel_block`` > 1 it is drawn small without anti-aliasing and scaled up by nearest
    neighbour, so it matches pixel-art frames instead of floating on them. ``box_w`` and ``box_h``
    must then be multiples of ``pixel_block``.
    """
    w, h = box_w // pixel_block, box_h // pixel_block
    lines, size = fit(text, w, h)
    image = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if pixel_block > 1:
        draw.fontmode = "1"
    font = _font(size)
    stroke = _stroke(size)
    line_h = size * 1.12
    top = h / 2 - line_h * (len(lines) - 1) / 2
    shadow = max(1, round(size * 0.07))
    layers = (
        # (offset, fill, stroke width, stroke colour): shadow, outline, then a thin stroke in the
        # fill colour that makes the regular-weight font read as bold.
        (shadow, (0, 0, 0, 110), stroke, (0, 0, 0, 110)),
        (0, palette.caption, stroke, palette.caption_stroke),
        (0, palette.caption, max(1, round(size * 0.025)), palette.caption),
    )
    gap = _word_gap(size)
    for dy, fill, width, stroke_fill in layers:
        for i, line in enumerate(lines):
            x = (w - _line_width(line, size)) / 2 + stroke
            y = top + i * line_h + dy
            for word in line.split(" "):
                draw.text(
                    (x, y),
                    word,
                    font=font,
                    anchor="lm",
                    fill=fill,
                    stroke_width=width,
                    stroke_fill=stroke_fill,
                )
                x += font.getlength(word) + gap
    if pixel_block > 1:
        image = image.resize((box_w, box_h), Image.Resampling.NEAREST)
    return image
