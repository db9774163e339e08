"""Unit outlines (polygons centred on the origin, about 1 unit across) that the face and the
effects reuse; computed once, because the same curves are drawn hundreds of times per clip."""

from __future__ import annotations

import numpy as np

Points = np.ndarray
"""An (N, 2) float array of x, y points; y grows downwards as on screen."""


def _circle(n: int) -> Points:
    t = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    return np.stack([np.cos(t), np.sin(t)], axis=1)


def _heart(n: int) -> Points:
    # The classic parametric heart, scaled so its width is about 2 units and centred on its middle.
    t = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    x = 16 * np.sin(t) ** 3
    y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
    pts = np.stack([x, y], axis=1) / 16.0
    return pts - (pts.max(axis=0) + pts.min(axis=0)) / 2


def _teardrop(n: int) -> Points:
    # Tip up at (0, -1), round bottom at (0, 1).
    t = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    return np.stack([np.sin(t) * np.sin(t / 2) ** 1.2, -np.cos(t)], axis=1)


def _star(points: int, inner: float) -> Points:
    t = np.linspace(0.0, 2.0 * np.pi, 2 * points, endpoint=False) - np.pi / 2
    r = np.where(np.arange(2 * points) % 2 == 0, 1.0, inner)
    return np.stack([r * np.cos(t), r * np.sin(t)], axis=1)


CIRCLE = _circle(40)
SMALL_CIRCLE = _circle(16)
HEART = _heart(40)
TEARDROP = _teardrop(28)
SPARKLE = _star(4, 0.28)
SQUARE = np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])
