"""The still part of every frame: a mood-coloured gradient, a glow behind the face, a vignette and
a faint halftone. Computed once per clip with numpy; the frames only copy it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from reactclip.engine.backends.sticker.layout import Layout
from reactclip.engine.backends.sticker.palette import Palette
from reactclip.engine.mood import Mood


@dataclass(frozen=True)
class Backdrop:
    rays: int = 0
    """Number of light wedges turning behind the face (drawn per frame, see renderer)."""
    ray_alpha: int = 0
    vignette: float = 0.25
    glow: float = 0.55


BACKDROPS: dict[Mood, Backdrop] = {
    Mood.JOY: Backdrop(rays=12, ray_alpha=90, vignette=0.15, glow=0.7),
    Mood.LOVE: Backdrop(rays=10, ray_alpha=55, vignette=0.15, glow=0.7),
    Mood.SADNESS: Backdrop(vignette=0.4, glow=0.35),
    Mood.ANGER: Backdrop(rays=16, ray_alpha=70, vignette=0.5, glow=0.6),
    Mood.FEAR: Backdrop(vignette=0.75, glow=0.45),
    Mood.SURPRISE: Backdrop(rays=14, ray_alpha=80, vignette=0.15, glow=0.75),
    Mood.DISGUST: Backdrop(vignette=0.35, glow=0.45),
    Mood.NEUTRAL: Backdrop(vignette=0.2, glow=0.5),
}


def render_background(
    layout: Layout, palette: Palette, backdrop: Backdrop, halftone: float, scale: int
) -> Image.Image:
    """The background at ``scale`` times the output size.

    The smooth fields (gradient, glow, vignette) are computed at a quarter of the size and scaled
    up, which looks the same and costs a sixteenth; only the halftone needs full resolution.
    """
    w, h = layout.width, layout.height
    sw, sh = max(8, w // 4), max(8, h // 4)
    ys, xs = np.mgrid[0:sh, 0:sw].astype(np.float32)
    ys = (ys + 0.5) * (h / sh)
    xs = (xs + 0.5) * (w / sw)
    top = np.array(palette.bg_top, dtype=np.float32)
    bottom = np.array(palette.bg_bottom, dtype=np.float32)
    rgb = top + (bottom - top) * (ys / h)[..., None]

    dist = np.hypot(xs - layout.face_x, ys - layout.face_y) / (layout.face_r * 2.6)
    glow = backdrop.glow * np.exp(-(dist**2))[..., None]
    rgb += (np.array(palette.glow, dtype=np.float32) - rgb) * glow

    edge = np.hypot((xs / w - 0.5) * 2, (ys / h - 0.5) * 2) / np.sqrt(2)
    rgb *= (1.0 - backdrop.vignette * edge**2.2)[..., None]
    smooth = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")
    image = smooth.resize((w, h), Image.Resampling.BILINEAR)

    if halftone > 0:
        # Comic-book dots that grow towards the bottom: texture without noise.
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        cell = max(6.0, layout.short_side / 28)
        radius = cell * (0.12 + 0.28 * yy / h)
        dots = np.hypot((xx % cell) - cell / 2, (yy % cell) - cell / 2) < radius
        pixels = np.asarray(image).astype(np.float32)
        pixels *= (1.0 - halftone * dots)[..., None]
        image = Image.fromarray(pixels.astype(np.uint8), "RGB")

    return image.resize((w * scale, h * scale), Image.Resampling.BILINEAR) if scale != 1 else image


def with_rays(background: Image.Image, palette: Palette, backdrop: Backdrop) -> Image.Image:
    """The background fully lit by the ray colour; frames show it through a wedge-shaped mask."""
    lit = Image.new("RGB", background.size, palette.rays)
    return Image.blend(background, lit, backdrop.ray_alpha / 255)
