"""The character: a round, thickly outlined face whose eyes, brows and mouth show a mood.

Drawn in face-local units (the head is the unit circle, y down) through a Pen, so the renderer can
bounce, squash and tilt it freely. Expressions are data keyed by Mood; intensity moves each number
from a calm face towards the mood's face.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from reactclip.engine.backends.sticker.palette import Palette
from reactclip.engine.backends.sticker.pen import Affine, Colour, Pen, curve
from reactclip.engine.backends.sticker.shapes import HEART, TEARDROP
from reactclip.engine.mood import Mood

OUTLINE = 0.075
"""Head outline width in head radii: thick, like a die-cut sticker."""
FEATURE = 0.06
"""Line width of brows, closed eyes and mouths."""
EYE_X, EYE_Y = 0.36, -0.08
MOUTH_Y = 0.42
WHITE: Colour = (255, 255, 255)


class Eyes(StrEnum):
    ROUND = "round"
    HAPPY = "happy"
    HEART = "heart"
    WIDE = "wide"


class Mouth(StrEnum):
    SMILE = "smile"
    """Covers smiles and frowns, closed (a line) or open (a filled shape)."""
    OH = "oh"
    GRIT = "grit"
    WAVY = "wavy"
    TONGUE = "tongue"


@dataclass(frozen=True)
class Expression:
    """One face. Floats blend towards ``CALM`` as intensity drops; the rest is kept as is."""

    eyes: Eyes = Eyes.ROUND
    eye_open: float = 1.0
    pupil: float = 0.065
    lid: float = 0.0
    """How much of each eye the upper lid covers (0..1)."""
    lid_tilt: float = 0.0
    """Positive lowers the inner corners (a glare), negative the outer ones (sorrow)."""
    lid_asym: float = 0.0
    brow_tilt: float = 0.0
    """Positive pulls the inner ends down (anger), negative lifts them (worry)."""
    brow_lift: float = 0.0
    brow_asym: float = 0.0
    mouth: Mouth = Mouth.SMILE
    mouth_curve: float = 0.0
    """Positive smiles, negative frowns."""
    mouth_open: float = 0.0
    mouth_width: float = 0.28
    teeth: bool = False
    blush: float = 0.0
    gloss: float = 1.0
    """Size of the eye highlights; big and many reads as teary."""
    tears: float = 0.0
    sweat: float = 0.0
    vein: float = 0.0
    talk: float = 0.0
    """How much the mouth opens and closes over the loop."""
    jitter: float = 0.0
    """Pupil tremble, in head radii."""
    blink: bool = False


CALM = Expression(mouth_curve=0.15, mouth_width=0.24, lid=0.1)

EXPRESSIONS: dict[Mood, Expression] = {
    Mood.JOY: Expression(
        eyes=Eyes.HAPPY,
        brow_lift=0.07,
        mouth_curve=0.9,
        mouth_open=0.9,
        mouth_width=0.44,
        teeth=True,
        blush=0.75,
        talk=0.22,
    ),
    Mood.LOVE: Expression(
        eyes=Eyes.HEART, brow_lift=0.05, mouth_curve=0.75, mouth_open=0.3, mouth_width=0.3, blush=1.0
    ),
    Mood.SADNESS: Expression(
        eye_open=0.95,
        lid=0.3,
        lid_tilt=-0.7,
        brow_tilt=-1.1,
        brow_lift=0.03,
        mouth_curve=-0.8,
        mouth_open=0.2,
        mouth_width=0.3,
        gloss=1.8,
        tears=1.0,
        talk=0.15,
        blush=0.3,
    ),
    Mood.ANGER: Expression(
        lid=0.42,
        lid_tilt=1.1,
        brow_tilt=1.4,
        brow_lift=-0.07,
        mouth=Mouth.GRIT,
        mouth_curve=-0.5,
        mouth_open=0.75,
        mouth_width=0.42,
        vein=1.0,
        talk=0.1,
    ),
    Mood.FEAR: Expression(
        eyes=Eyes.WIDE,
        eye_open=1.15,
        pupil=0.045,
        brow_tilt=-1.2,
        brow_lift=0.12,
        mouth=Mouth.WAVY,
        mouth_curve=-0.35,
        mouth_open=0.45,
        mouth_width=0.34,
        sweat=1.0,
        jitter=0.025,
    ),
    Mood.SURPRISE: Expression(
        eyes=Eyes.WIDE,
        eye_open=1.25,
        pupil=0.06,
        brow_lift=0.17,
        mouth=Mouth.OH,
        mouth_open=1.0,
        blush=0.35,
        talk=0.12,
    ),
    Mood.DISGUST: Expression(
        lid=0.5,
        lid_tilt=0.3,
        lid_asym=0.25,
        brow_tilt=0.9,
        brow_asym=0.06,
        mouth=Mouth.TONGUE,
        mouth_curve=-0.5,
        mouth_open=0.8,
        mouth_width=0.36,
        talk=0.15,
    ),
    Mood.NEUTRAL: Expression(lid=0.18, mouth_curve=0.12, mouth_width=0.24, blink=True),
}


def expression_for(mood: Mood, strength: float) -> Expression:
    """The mood's face, with every number moved ``strength`` (0..1) of the way from calm."""
    target = EXPRESSIONS[mood]
    changes = {}
    for f in dataclasses.fields(Expression):
        value = getattr(target, f.name)
        if isinstance(value, float) and not isinstance(value, bool):
            calm = getattr(CALM, f.name)
            changes[f.name] = calm + (value - calm) * strength
    return dataclasses.replace(target, **changes)


@dataclass(frozen=True)
class FaceFrame:
    """The animated quantities of one frame."""

    phase: float
    speed: int


def draw_face(pen: Pen, face: Expression, palette: Palette, frame: FaceFrame) -> None:
    """Draw the head and features; ``pen`` maps the unit circle onto the head."""
    _draw_head(pen, palette)
    if face.blush > 0.02:
        alpha = round(190 * min(1.0, face.blush))
        for side in (-1, 1):
            pen.ellipse(side * 0.6, 0.2, 0.16, 0.09, fill=(*palette.blush, alpha))
    for side in (-1, 1):
        _EYE_DRAWERS[face.eyes](pen, face, palette, frame, side)
        _draw_brow(pen, face, palette, side)
    _MOUTH_DRAWERS[face.mouth](pen, face, palette, frame)
    if face.tears > 0.05:
        _draw_tears(pen, face, frame)
    if face.sweat > 0.05:
        _draw_sweat(pen, face, palette, frame)
    if face.vein > 0.05:
        _draw_vein(pen, face, palette, frame)


def _draw_head(pen: Pen, palette: Palette) -> None:
    pen.ellipse(0.0, 0.0, 1.0, fill=palette.head_shade)
    pen.ellipse(-0.05, -0.07, 0.9, fill=palette.head)
    pen.ellipse(0.0, 0.0, 1.0, outline=palette.outline, width=OUTLINE)
    pen.ellipse(-0.48, -0.56, 0.2, 0.09, fill=(255, 255, 255, 150), angle=-38)
    pen.ellipse(-0.7, -0.3, 0.045, fill=(255, 255, 255, 150))


def _eye_height(face: Expression, frame: FaceFrame) -> float:
    open_ = face.eye_open
    if face.blink:
        # One quick blink per loop, placed away from frame 0 so the thumbnail has open eyes.
        open_ *= 1.0 - max(0.0, math.cos(frame.phase - 2.4)) ** 40
    return 0.17 * open_


def _draw_round_eye(pen: Pen, face: Expression, palette: Palette, frame: FaceFrame, side: int) -> None:
    x, y, rx = side * EYE_X, EYE_Y, 0.115
    ry = _eye_height(face, frame)
    if ry < 0.035:
        pen.line(curve(np.array([x - rx, x, x + rx]), np.array([y, y + 0.03, y])), palette.outline, FEATURE)
        return
    pen.ellipse(x, y, rx, ry, fill=palette.outline)
    g = face.gloss
    pen.ellipse(x + 0.035, y - ry * 0.42, 0.042 * g**0.7, fill=WHITE)
    pen.ellipse(x - 0.035, y + ry * 0.4, 0.02 * g, fill=WHITE)
    lid = min(0.85, face.lid + (face.lid_asym if side > 0 else 0.0))
    if lid > 0.03 or abs(face.lid_tilt) > 0.05:
        _draw_lid(pen, face, palette, x, y, rx, ry, lid, side)


def _draw_lid(
    pen: Pen,
    face: Expression,
    palette: Palette,
    x: float,
    y: float,
    rx: float,
    ry: float,
    lid: float,
    side: int,
) -> None:
    line_y = y - ry + 2 * ry * lid
    inner_x, outer_x = x - side * rx * 1.45, x + side * rx * 1.45
    tilt = 0.08 * face.lid_tilt
    inner_y, outer_y = line_y + tilt, line_y - tilt
    top = y - ry - 0.08
    cover = np.array([[outer_x, outer_y], [inner_x, inner_y], [inner_x, top], [outer_x, top]])
    pen.polygon(cover, fill=palette.head)
    span = np.linspace(0.0, 1.0, 5)
    lid_line = curve(outer_x + (inner_x - outer_x) * span, outer_y + (inner_y - outer_y) * span)
    pen.line(lid_line[1:-1], palette.outline, FEATURE * 0.8)


def _draw_happy_eye(pen: Pen, face: Expression, palette: Palette, frame: FaceFrame, side: int) -> None:
    t = np.linspace(np.pi * 1.08, np.pi * 1.92, 9)
    x, y = side * EYE_X, EYE_Y + 0.06
    pen.line(curve(x + 0.13 * np.cos(t), y + 0.13 * np.sin(t)), palette.outline, FEATURE * 1.15)


def _draw_heart_eye(pen: Pen, face: Expression, palette: Palette, frame: FaceFrame, side: int) -> None:
    beat = 1.0 + 0.14 * math.sin(2 * frame.speed * frame.phase + side * 0.4)
    r = 0.16 * beat
    x, y = side * EYE_X, EYE_Y - 0.01
    pen.shape(HEART, x, y, r, fill=palette.particles[0], outline=palette.outline, width=0.045)
    pen.ellipse(x - 0.06 * beat, y - 0.05 * beat, 0.035, fill=WHITE)


def _draw_wide_eye(pen: Pen, face: Expression, palette: Palette, frame: FaceFrame, side: int) -> None:
    x, y = side * EYE_X, EYE_Y - 0.02
    rx, ry = 0.135, _eye_height(face, frame)
    pen.ellipse(x, y, rx, ry, fill=WHITE, outline=palette.outline, width=0.045)
    k = 5 * frame.speed
    jx = face.jitter * math.sin(k * frame.phase + 0.7)
    jy = face.jitter * 0.6 * math.sin((k + 2) * frame.phase)
    px, py = x + jx - side * 0.012, y + jy + 0.01
    pen.ellipse(px, py, face.pupil, fill=palette.outline)
    pen.ellipse(px + face.pupil * 0.35, py - face.pupil * 0.4, face.pupil * 0.38, fill=WHITE)


def _draw_brow(pen: Pen, face: Expression, palette: Palette, side: int) -> None:
    x = side * EYE_X
    y = EYE_Y - 0.3 - face.brow_lift - (face.brow_asym if side > 0 else 0.0)
    inner, outer = x - side * 0.14, x + side * 0.13
    tilt = 0.075 * face.brow_tilt
    xs = np.array([outer, x, inner])
    ys = np.array([y - tilt, y - 0.025, y + tilt])
    pen.line(curve(xs, ys), palette.outline, FEATURE)


def _mouth_open(face: Expression, frame: FaceFrame) -> float:
    return max(0.0, face.mouth_open * (1.0 + face.talk * math.cos(2 * frame.speed * frame.phase)))


def _lips(face: Expression, open_: float, n: int = 17) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, upper lip y and lower lip y of a smile (or frown) mouth."""
    hw, c = face.mouth_width, face.mouth_curve
    xs = np.linspace(-hw, hw, n)
    bowl = 1.0 - (xs / hw) ** 2
    upper = MOUTH_Y - 0.08 * c + 0.16 * c * (1.0 - 0.55 * min(open_, 1.0)) * bowl
    lower = upper + 0.32 * open_ * bowl**0.75
    return xs, upper, lower


def _draw_smile(pen: Pen, face: Expression, palette: Palette, frame: FaceFrame) -> None:
    open_ = _mouth_open(face, frame)
    xs, upper, lower = _lips(face, open_)
    if open_ < 0.07:
        pen.line(curve(xs, upper), palette.outline, FEATURE)
        return
    shape = np.concatenate([curve(xs, upper), curve(xs, lower)[::-1]])
    pen.polygon(shape, fill=palette.mouth)
    if face.teeth:
        sel = slice(3, -3)
        depth = np.minimum(upper[sel] + 0.06, lower[sel])
        pen.polygon(np.concatenate([curve(xs[sel], upper[sel]), curve(xs[sel], depth)[::-1]]), fill=WHITE)
    if open_ > 0.25:
        sel = slice(4, -4)
        tw = xs[sel][-1]
        bump = np.sqrt(np.clip(1.0 - (xs[sel] / tw) ** 2, 0.0, 1.0))
        top = np.maximum(lower[sel] - 0.11 * open_ * bump, upper[sel] + 0.04)
        pen.polygon(
            np.concatenate([curve(xs[sel], top), curve(xs[sel], lower[sel] - 0.005)[::-1]]),
            fill=palette.tongue,
        )
    pen.polygon(shape, fill=None, outline=palette.outline, width=FEATURE)


def _draw_o(pen: Pen, face: Expression, palette: Palette, frame: FaceFrame) -> None:
    open_ = _mouth_open(face, frame)
    rx, ry = 0.1 + 0.05 * open_, 0.09 + 0.13 * open_
    y = MOUTH_Y + 0.04
    pen.ellipse(0.0, y, rx, ry, fill=palette.mouth)
    pen.ellipse(0.0, y + ry * 0.5, rx * 0.62, ry * 0.36, fill=palette.tongue)
    pen.ellipse(0.0, y, rx, ry, outline=palette.outline, width=FEATURE)


def _draw_grit(pen: Pen, face: Expression, palette: Palette, frame: FaceFrame) -> None:
    """Clenched teeth: a wide, squared-off mouth that frowns, with the teeth drawn in."""
    open_ = _mouth_open(face, frame)
    hw = face.mouth_width
    xs = np.linspace(-hw, hw, 15)
    edge = np.abs(xs / hw)
    frown = -0.1 * face.mouth_curve * (1.0 - (xs / hw) ** 2)
    half = (0.05 + 0.06 * open_) * (1.0 - edge**6) ** 0.5
    mid = MOUTH_Y + 0.02 + frown
    upper, lower = mid - half, mid + half
    shape = np.concatenate([curve(xs, upper), curve(xs, lower)[::-1]])
    pen.polygon(shape, fill=WHITE)
    thin = FEATURE * 0.5
    pen.line(curve(xs[1:-1], mid[1:-1]), palette.outline, thin, caps=False)
    for i in (3, 5, 7, 9, 11):
        pen.line(curve(xs[[i, i]], np.array([upper[i], lower[i]])), palette.outline, thin, caps=False)
    pen.polygon(shape, fill=None, outline=palette.outline, width=FEATURE)


def _draw_wavy(pen: Pen, face: Expression, palette: Palette, frame: FaceFrame) -> None:
    open_ = _mouth_open(face, frame)
    hw = face.mouth_width
    xs = np.linspace(-hw, hw, 25)
    wave = 0.035 * np.sin(xs / hw * 3 * np.pi + frame.phase * 2 * frame.speed)
    upper = MOUTH_Y + 0.05 - 0.1 * face.mouth_curve * (xs / hw) ** 2 + wave
    if open_ < 0.07:
        pen.line(curve(xs, upper), palette.outline, FEATURE)
        return
    lower = upper + 0.18 * open_ * (1.0 - (xs / hw) ** 2) ** 0.5 + 0.02
    shape = np.concatenate([curve(xs, upper), curve(xs, lower)[::-1]])
    pen.polygon(shape, fill=palette.mouth, outline=palette.outline, width=FEATURE)


def _draw_tongue(pen: Pen, face: Expression, palette: Palette, frame: FaceFrame) -> None:
    open_ = _mouth_open(face, frame)
    hw = face.mouth_width
    xs = np.linspace(-hw, hw, 17)
    # A wavy grimace (corners down) with the tongue out: "blegh".
    lip = (
        MOUTH_Y + 0.06 + 0.2 * face.mouth_curve * (1.0 - (xs / hw) ** 2) + 0.025 * np.sin(xs / hw * 3 * np.pi)
    )
    if open_ > 0.1:
        tx, ty = 0.05, float(np.interp(0.05, xs, lip))
        length = 0.2 * open_
        half = 0.1
        t = np.linspace(0.0, np.pi, 12)
        bottom = curve(tx + half * np.cos(t), ty + length + half * np.sin(t))
        tongue = np.concatenate([np.array([[tx + half, ty]]), bottom, np.array([[tx - half, ty]])])
        wag = 10.0 * math.sin(2 * frame.speed * frame.phase)
        tpen = pen.moved(_about(tx, ty, wag))
        tpen.polygon(tongue, fill=palette.tongue, outline=palette.outline, width=FEATURE * 0.8)
        tpen.line(
            curve(np.array([tx, tx]), np.array([ty + 0.03, ty + length * 0.8])), palette.mouth, FEATURE * 0.45
        )
    pen.line(curve(xs, lip), palette.outline, FEATURE)


def _about(x: float, y: float, degrees: float) -> Affine:
    """A turn by ``degrees`` about (x, y)."""
    return Affine.translate(x, y) @ Affine.rotate(degrees) @ Affine.translate(-x, -y)


def _draw_tears(pen: Pen, face: Expression, frame: FaceFrame) -> None:
    blue = (150, 210, 255)
    width = 0.075 * face.tears
    for side in (-1, 1):
        x0, y0 = side * EYE_X, EYE_Y + 0.1
        ys = np.linspace(y0, 0.92, 8)
        xs = x0 + side * 0.06 * (ys - y0) + 0.015 * np.sin(ys * 14 + frame.phase * 2)
        pen.line(curve(xs, ys), (*blue, 190), width)
        for k in range(2):
            u = (frame.phase / (2 * np.pi) * frame.speed + k / 2 + (0.25 if side > 0 else 0.0)) % 1.0
            y = y0 + u * 1.25
            x = x0 + side * 0.06 * min(y - y0, 0.92 - y0)
            alpha = round(235 * min(1.0, (1.0 - u) * 4))
            r = 0.05 + 0.02 * face.tears
            pen.shape(TEARDROP, x, y, r * 0.75, r, fill=(*blue, alpha))


def _draw_sweat(pen: Pen, face: Expression, palette: Palette, frame: FaceFrame) -> None:
    slide = 0.05 * (0.5 - 0.5 * math.cos(frame.phase))
    r = 0.1 * face.sweat
    pen.shape(
        TEARDROP, 0.7, -0.5 + slide, r * 0.8, r, fill=(140, 210, 255), outline=palette.outline, width=0.04
    )
    pen.ellipse(0.68, -0.46 + slide, r * 0.18, fill=WHITE)


def _draw_vein(pen: Pen, face: Expression, palette: Palette, frame: FaceFrame) -> None:
    s = 0.17 * face.vein * (1.0 + 0.18 * math.sin(4 * frame.speed * frame.phase))
    cx, cy = 0.52, -0.58
    colour = palette.blush
    for qx, qy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        arm = np.array([[qx * 0.25, qy * 1.0], [qx * 0.35, qy * 0.35], [qx * 1.0, qy * 0.25]])
        pen.line(curve(cx + s * arm[:, 0], cy + s * arm[:, 1]), colour, FEATURE * 0.9)


_EYE_DRAWERS = {
    Eyes.ROUND: _draw_round_eye,
    Eyes.HAPPY: _draw_happy_eye,
    Eyes.HEART: _draw_heart_eye,
    Eyes.WIDE: _draw_wide_eye,
}

_MOUTH_DRAWERS = {
    Mouth.SMILE: _draw_smile,
    Mouth.OH: _draw_o,
    Mouth.GRIT: _draw_grit,
    Mouth.WAVY: _draw_wavy,
    Mouth.TONGUE: _draw_tongue,
}
