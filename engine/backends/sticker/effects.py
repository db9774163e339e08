"""Particles and marks around the character: confetti, sparkles, hearts, rain, steam, burst lines,
exclamation marks, stink lines, bubbles, shivers and motes.

Each particle is a row of seeded random numbers; its position is a periodic function of the loop
time ``t`` (0..1) with whole laps per loop, so particles that leave one edge re-enter at the other
while off screen and the loop never jumps.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from reactclip.engine.backends.sticker.layout import Layout
from reactclip.engine.backends.sticker.palette import Palette
from reactclip.engine.backends.sticker.pen import Affine, Colour, Pen, curve
from reactclip.engine.backends.sticker.shapes import HEART, SPARKLE, SQUARE
from reactclip.engine.mood import Mood

TAU = 2.0 * math.pi


class Effect(StrEnum):
    CONFETTI = "confetti"
    SPARKLES = "sparkles"
    HEARTS = "hearts"
    RAIN = "rain"
    STEAM = "steam"
    BURST = "burst"
    EXCLAIM = "exclaim"
    STINK = "stink"
    BUBBLES = "bubbles"
    SHIVER = "shiver"
    MOTES = "motes"


@dataclass(frozen=True)
class EffectLayer:
    effect: Effect
    count: int
    front: bool
    """In front of the face (True) or behind it."""
    spread: bool = True
    """Fills the frame, so its count grows with the frame's area; otherwise it hugs the face."""


MOOD_EFFECTS: dict[Mood, tuple[EffectLayer, ...]] = {
    Mood.JOY: (
        EffectLayer(Effect.CONFETTI, 26, front=False),
        EffectLayer(Effect.CONFETTI, 10, front=True),
        EffectLayer(Effect.SPARKLES, 7, front=True, spread=False),
    ),
    Mood.LOVE: (EffectLayer(Effect.HEARTS, 10, front=False), EffectLayer(Effect.HEARTS, 6, front=True)),
    Mood.SADNESS: (EffectLayer(Effect.RAIN, 45, front=False), EffectLayer(Effect.RAIN, 8, front=True)),
    Mood.ANGER: (
        EffectLayer(Effect.MOTES, 16, front=False),
        EffectLayer(Effect.STEAM, 6, front=True, spread=False),
    ),
    Mood.FEAR: (
        EffectLayer(Effect.MOTES, 18, front=False),
        EffectLayer(Effect.SHIVER, 2, front=True, spread=False),
    ),
    Mood.SURPRISE: (
        EffectLayer(Effect.BURST, 12, front=False, spread=False),
        EffectLayer(Effect.EXCLAIM, 2, front=True, spread=False),
        EffectLayer(Effect.SPARKLES, 4, front=True, spread=False),
    ),
    Mood.DISGUST: (
        EffectLayer(Effect.BUBBLES, 14, front=False),
        EffectLayer(Effect.STINK, 3, front=True, spread=False),
    ),
    Mood.NEUTRAL: (EffectLayer(Effect.BUBBLES, 10, front=False),),
}


@dataclass(frozen=True)
class EffectFrame:
    """What an effect needs to draw one frame."""

    layout: Layout
    palette: Palette
    t: float
    """Loop time, 0..1."""
    speed: int
    pop: float
    """The surprise pop (0..1) of this frame, so burst lines flare with the face."""


@dataclass(frozen=True)
class Particles:
    layer: EffectLayer
    seeds: np.ndarray
    """(count, 8) uniform numbers in [0, 1), fixed for the clip."""


def make_particles(
    layers: tuple[EffectLayer, ...], layout: Layout, density: float, rng: np.random.Generator
) -> list[Particles]:
    area = min(1.6, max(0.5, math.sqrt(layout.width * layout.height / (832 * 480))))
    out = []
    for layer in layers:
        count = max(1, round(layer.count * density * (area if layer.spread else 1.0)))
        if layer.effect in (Effect.BURST, Effect.SHIVER, Effect.EXCLAIM):
            count = layer.count  # marks, not a crowd: intensity shows in their motion instead
        out.append(Particles(layer, rng.random((count, 8))))
    return out


def draw_particles(pen: Pen, particles: Particles, frame: EffectFrame) -> None:
    _DRAWERS[particles.layer.effect](pen, particles, frame)


def _rows(ps: Particles) -> list[list[float]]:
    # Plain floats: numpy scalars make the per-particle arithmetic several times slower.
    rows: list[list[float]] = ps.seeds.tolist()
    return rows


def _pick(colours: tuple[tuple[int, int, int], ...], u: float) -> tuple[int, int, int]:
    return colours[int(u * 997) % len(colours)]


def _wrap(u: float, lo: float, hi: float) -> float:
    return lo + (u % 1.0) * (hi - lo)


def _confetti(pen: Pen, ps: Particles, f: EffectFrame) -> None:
    w, h, s0 = f.layout.width, f.layout.height, f.layout.short_side
    for p in _rows(ps):
        size = s0 * (0.014 + 0.012 * p[5])
        laps = (1 + int(p[1] > 0.6)) * f.speed
        y = _wrap(p[2] + laps * f.t, -3 * size, h + 3 * size)
        x = p[0] * w + 0.03 * w * math.sin(TAU * (f.t + p[3]))
        spin = p[4] * 360 + 360 * f.t * (1 + int(p[6] * 2)) * (1 if p[7] > 0.5 else -1)
        flip = abs(math.cos(TAU * (f.t * (1 + int(p[7] * 2)) + p[6])))
        pen.shape(
            SQUARE,
            x,
            y,
            size,
            size * max(0.15, flip) * 0.55,
            fill=_pick(f.palette.particles, p[0]),
            angle=spin,
        )


def _sparkles(pen: Pen, ps: Particles, f: EffectFrame) -> None:
    lay = f.layout
    for p in _rows(ps):
        angle = TAU * p[0]
        dist = lay.face_r * (1.3 + 0.55 * p[1])
        x = lay.face_x + dist * math.cos(angle) * 1.15
        y = lay.face_y + dist * math.sin(angle) * 0.85
        twinkle = max(0.0, math.sin(TAU * ((1 + int(p[3] * 2)) * f.speed * f.t + p[2]))) ** 1.5
        if twinkle < 0.05:
            continue
        r = lay.face_r * (0.1 + 0.08 * p[4]) * twinkle
        pen.shape(SPARKLE, x, y, r, fill=(255, 255, 255), outline=f.palette.outline, width=max(1.0, r * 0.14))


def _hearts(pen: Pen, ps: Particles, f: EffectFrame) -> None:
    w, h, s0 = f.layout.width, f.layout.height, f.layout.short_side
    front = ps.layer.front
    for p in _rows(ps):
        size = s0 * ((0.045 + 0.03 * p[5]) if front else (0.025 + 0.025 * p[5]))
        y = _wrap(p[1] - f.t * f.speed, -2 * size, h + 2 * size)
        x = p[0] * w + 0.04 * w * math.sin(TAU * (f.t + p[2]))
        beat = 1.0 + 0.12 * math.sin(TAU * (2 * f.speed * f.t + p[3]))
        tilt = 15 * math.sin(TAU * (f.t + p[4]))
        colour = _pick(f.palette.particles, p[6])
        if front:
            pen.shape(
                HEART,
                x,
                y,
                size * beat,
                fill=colour,
                outline=f.palette.outline,
                width=size * 0.14,
                angle=tilt,
            )
        else:
            pen.shape(HEART, x, y, size * beat, fill=(*colour, 150), angle=tilt)


def _rain(pen: Pen, ps: Particles, f: EffectFrame) -> None:
    w, h, s0 = f.layout.width, f.layout.height, f.layout.short_side
    front = ps.layer.front
    colour: Colour = (*f.palette.particles[0], 200 if front else 120)
    for p in _rows(ps):
        length = s0 * (0.05 + 0.04 * p[3]) * (1.4 if front else 1.0)
        laps = 2 * f.speed
        y = _wrap(p[1] + laps * f.t, -length, h + length)
        x = p[0] * w - 0.25 * (y / h) * length
        line = np.array([[x, y], [x - 0.25 * length, y + length]])
        pen.line(line, colour, max(1.0, s0 * (0.006 if front else 0.004)))


def _steam(pen: Pen, ps: Particles, f: EffectFrame) -> None:
    lay = f.layout
    r0 = lay.face_r
    for p in _rows(ps):
        side = 1 if p[0] > 0.5 else -1
        u = (f.t * f.speed + p[1]) % 1.0
        x = lay.face_x + side * r0 * (0.7 + 0.55 * u + 0.1 * p[2])
        y = lay.face_y - r0 * (0.7 + 0.7 * u + 0.1 * p[3])
        alpha = round(235 * math.sin(math.pi * u) ** 0.7)
        if alpha < 8:
            continue
        r = r0 * (0.09 + 0.16 * u)
        colour = (*_pick(f.palette.particles, p[4]), alpha)
        for dx, dy, k in ((0.0, 0.0, 1.0), (-0.7, 0.35, 0.75), (0.7, 0.35, 0.75)):
            pen.ellipse(x + dx * r, y + dy * r, r * k, fill=colour)


def _burst(pen: Pen, ps: Particles, f: EffectFrame) -> None:
    lay = f.layout
    n = len(ps.seeds)
    for i, p in enumerate(_rows(ps)):
        angle = TAU * (i + 0.3 * p[0]) / n
        inner = lay.face_r * (1.3 + 0.15 * f.pop + 0.1 * p[1])
        length = lay.face_r * (0.18 + 0.35 * f.pop) * (0.7 + 0.6 * p[2])
        c, s = math.cos(angle), math.sin(angle)
        seg = np.array([[c * inner, s * inner], [c * (inner + length), s * (inner + length)]])
        seg += (lay.face_x, lay.face_y)
        width = lay.face_r * 0.07
        pen.line(seg, f.palette.outline, width * 1.8)
        pen.line(seg, (255, 255, 255), width)


def _exclaim(pen: Pen, ps: Particles, f: EffectFrame) -> None:
    lay = f.layout
    for i, p in enumerate(_rows(ps)):
        side = 1 if i % 2 == 0 else -1
        x = lay.face_x + side * lay.face_r * (1.05 + 0.1 * p[0])
        y = lay.face_y - lay.face_r * (1.0 + 0.1 * p[1])
        pop = ((1 - math.cos(TAU * f.speed * f.t - 0.5 * i)) / 2) ** 3
        size = lay.face_r * (0.28 + 0.14 * pop)
        bar = np.array([[-0.32, -1.0], [0.32, -1.0], [0.16, 0.35], [-0.16, 0.35]])
        tilt = side * (12 + 8 * pop)
        sub = pen.moved(_place(x, y, size, tilt))
        sub.polygon(bar, fill=f.palette.particles[0], outline=f.palette.outline, width=0.14)
        sub.ellipse(0.0, 0.75, 0.2, fill=f.palette.particles[0], outline=f.palette.outline, width=0.14)


def _stink(pen: Pen, ps: Particles, f: EffectFrame) -> None:
    lay = f.layout
    for i, p in enumerate(_rows(ps)):
        u = (f.t * f.speed + i / len(ps.seeds) + 0.2 * p[1]) % 1.0
        alpha = round(220 * math.sin(math.pi * u))
        if alpha < 8:
            continue
        x0 = lay.face_x + (i - (len(ps.seeds) - 1) / 2) * lay.face_r * 0.5
        ys = np.linspace(0.0, 1.0, 12)
        y = lay.face_y - lay.face_r * (1.05 + 0.8 * u) - ys * lay.face_r * 0.5
        x = x0 + lay.face_r * 0.08 * np.sin(ys * TAU * 1.2 + TAU * (f.t + p[2]))
        pen.line(curve(x, y), (*f.palette.outline, alpha), lay.face_r * 0.085)
        pen.line(curve(x, y), (*f.palette.particles[2], alpha), lay.face_r * 0.045)


def _bubbles(pen: Pen, ps: Particles, f: EffectFrame) -> None:
    w, h, s0 = f.layout.width, f.layout.height, f.layout.short_side
    colour = f.palette.particles[1]
    for p in _rows(ps):
        r = s0 * (0.012 + 0.024 * p[3])
        y = _wrap(p[1] - f.t * f.speed, -2 * r, h + 2 * r)
        x = p[0] * w + 0.025 * w * math.sin(TAU * (f.t * 2 + p[2]))
        pen.ellipse(x, y, r, fill=(*colour, 70), outline=(*colour, 190), width=max(1.0, r * 0.18))
        pen.ellipse(x - r * 0.35, y - r * 0.35, r * 0.22, fill=(255, 255, 255, 160))


def _shiver(pen: Pen, ps: Particles, f: EffectFrame) -> None:
    lay = f.layout
    colour = f.palette.particles[2]
    k = 6 * f.speed
    for side in (-1, 1):
        for j in range(len(ps.seeds)):
            jitter = lay.face_r * 0.03 * math.sin(k * TAU * f.t + j + side)
            radius = lay.face_r * (1.2 + 0.16 * j)
            t = np.linspace(-0.35, 0.35, 9)
            base = 0.0 if side > 0 else math.pi
            x = lay.face_x + side * jitter + radius * np.cos(base + t)
            y = lay.face_y + radius * np.sin(base + t)
            pen.line(curve(x, y), colour, lay.face_r * 0.06)


def _motes(pen: Pen, ps: Particles, f: EffectFrame) -> None:
    w, h, s0 = f.layout.width, f.layout.height, f.layout.short_side
    for p in _rows(ps):
        r = s0 * (0.004 + 0.008 * p[3])
        y = _wrap(p[1] - f.t, -2 * r, h + 2 * r)
        x = p[0] * w + 0.03 * w * math.sin(TAU * (f.t + p[2]))
        glow = 0.5 + 0.5 * math.sin(TAU * (f.speed * f.t + p[4]))
        colour = (*_pick(f.palette.particles, p[5]), round(80 + 140 * glow))
        pen.ellipse(x, y, r, fill=colour)


def _place(x: float, y: float, size: float, angle: float) -> Affine:
    return Affine.translate(x, y) @ Affine.rotate(angle) @ Affine.scale(size)


_DRAWERS: dict[Effect, Callable[[Pen, Particles, EffectFrame], None]] = {
    Effect.CONFETTI: _confetti,
    Effect.SPARKLES: _sparkles,
    Effect.HEARTS: _hearts,
    Effect.RAIN: _rain,
    Effect.STEAM: _steam,
    Effect.BURST: _burst,
    Effect.EXCLAIM: _exclaim,
    Effect.STINK: _stink,
    Effect.BUBBLES: _bubbles,
    Effect.SHIVER: _shiver,
    Effect.MOTES: _motes,
}
