"""Vector drawing on a supersampled Pillow image.

Every shape goes through one affine transform, so the face can bounce, squash and tilt as a whole
while its parts are written in simple face-local units. The frame is drawn at ``SUPERSAMPLE`` times
its size and shrunk afterwards, which is what makes Pillow's aliased polygons look smooth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import ImageDraw

from reactclip.engine.backends.sticker.shapes import CIRCLE, SMALL_CIRCLE, Points

SUPERSAMPLE = 2

Colour = tuple[int, ...]
"""RGB, or RGBA where the alpha blends with what is below."""


@dataclass(frozen=True)
class Affine:
    """x' = a*x + b*y + c, y' = d*x + e*y + f."""

    a: float = 1.0
    b: float = 0.0
    c: float = 0.0
    d: float = 0.0
    e: float = 1.0
    f: float = 0.0

    @staticmethod
    def translate(x: float, y: float) -> Affine:
        return Affine(c=x, f=y)

    @staticmethod
    def scale(sx: float, sy: float | None = None) -> Affine:
        return Affine(a=sx, e=sx if sy is None else sy)

    @staticmethod
    def rotate(degrees: float) -> Affine:
        r = math.radians(degrees)
        cos, sin = math.cos(r), math.sin(r)
        return Affine(a=cos, b=-sin, d=sin, e=cos)

    def __matmul__(self, o: Affine) -> Affine:
        """``self @ o`` applies ``o`` first, then ``self``."""
        return Affine(
            a=self.a * o.a + self.b * o.d,
            b=self.a * o.b + self.b * o.e,
            c=self.a * o.c + self.b * o.f + self.c,
            d=self.d * o.a + self.e * o.d,
            e=self.d * o.b + self.e * o.e,
            f=self.d * o.c + self.e * o.f + self.f,
        )

    @property
    def unit(self) -> float:
        """How many pixels one local unit spans, on average (for line widths)."""
        return math.sqrt(abs(self.a * self.e - self.b * self.d))

    def apply(self, pts: Points) -> list[tuple[float, float]]:
        x, y = pts[:, 0], pts[:, 1]
        xs = self.a * x + self.b * y + self.c
        ys = self.d * x + self.e * y + self.f
        return list(zip(xs.tolist(), ys.tolist(), strict=True))


class Pen:
    """Draws shapes given in local units onto a (supersampled) image through a transform."""

    def __init__(self, draw: ImageDraw.ImageDraw, transform: Affine) -> None:
        self.draw = draw
        self.transform = transform

    def moved(self, transform: Affine) -> Pen:
        """A pen whose local units are ``transform`` applied inside this pen's."""
        return Pen(self.draw, self.transform @ transform)

    def _px(self, width: float) -> int:
        return max(1, round(width * self.transform.unit))

    def polygon(
        self, pts: Points, fill: Colour | None, outline: Colour | None = None, width: float = 0.0
    ) -> None:
        self._fill(self.transform.apply(pts), fill, outline, width)

    def _fill(
        self, xy: list[tuple[float, float]], fill: Colour | None, outline: Colour | None, width: float
    ) -> None:
        if fill is not None:
            self.draw.polygon(xy, fill=fill)
        if outline is not None and width > 0:
            self._stroke([*xy, xy[0], xy[1]], outline, width, caps=False)

    def line(self, pts: Points, colour: Colour, width: float, caps: bool = True) -> None:
        """A thick polyline with round joints and (by default) round ends."""
        self._stroke(self.transform.apply(pts), colour, width, caps)

    def _stroke(self, xy: list[tuple[float, float]], colour: Colour, width: float, caps: bool) -> None:
        px = self._px(width)
        self.draw.line(xy, fill=colour, width=px, joint="curve")
        if caps and px > 2:
            r = px / 2
            for x, y in (xy[0], xy[-1]):
                self.draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)

    def shape(
        self,
        unit_shape: Points,
        cx: float,
        cy: float,
        rx: float,
        ry: float | None = None,
        fill: Colour | None = None,
        outline: Colour | None = None,
        width: float = 0.0,
        angle: float = 0.0,
    ) -> None:
        """A unit shape scaled to radii (rx, ry), turned by ``angle`` degrees, centred on (cx, cy)."""
        local = Affine.translate(cx, cy) @ Affine.rotate(angle) @ Affine.scale(rx, rx if ry is None else ry)
        # The outline width stays in this pen's units, however flat the shape is.
        self._fill((self.transform @ local).apply(unit_shape), fill, outline, width)

    def ellipse(
        self,
        cx: float,
        cy: float,
        rx: float,
        ry: float | None = None,
        fill: Colour | None = None,
        outline: Colour | None = None,
        width: float = 0.0,
        angle: float = 0.0,
    ) -> None:
        small = rx * self.transform.unit < 12
        self.shape(SMALL_CIRCLE if small else CIRCLE, cx, cy, rx, ry, fill, outline, width, angle)


def curve(xs: np.ndarray, ys: np.ndarray) -> Points:
    """Stack x and y arrays into points."""
    return np.stack([xs, ys], axis=1)
