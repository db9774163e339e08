"""Compose a sticker clip: background, turning rays, particles, the posed face and the caption.

Everything that does not move is made once per clip (background, caption, particle seeds); each
frame is drawn at ``SUPERSAMPLE`` times its size and shrunk, which anti-aliases every edge at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from reactclip.engine.backends.sticker.background import BACKDROPS, Backdrop, render_background, with_rays
from reactclip.engine.backends.sticker.caption import caption_text, render_caption
from reactclip.engine.backends.sticker.effects import (
    MOOD_EFFECTS,
    EffectFrame,
    Particles,
    draw_particles,
    make_particles,
)
from reactclip.engine.backends.sticker.face import Expression, FaceFrame, draw_face, expression_for
from reactclip.engine.backends.sticker.layout import Layout, layout_for
from reactclip.engine.backends.sticker.motion import DYNAMICS, MOTIONS, Dynamics, Motion, pop_wave, pose_at
from reactclip.engine.backends.sticker.palette import Palette, palette_for
from reactclip.engine.backends.sticker.pen import SUPERSAMPLE, Affine, Pen
from reactclip.engine.backends.sticker.styles import Style, pixel_block, pixelate, style_for
from reactclip.engine.spec import GenerationSpec

MAX_HUE_SHIFT = 0.02
"""A seed turns the palette by up to about 7 degrees: a different clip, the same mood."""


@dataclass(frozen=True)
class Scene:
    """Everything fixed for one clip."""

    spec: GenerationSpec
    layout: Layout
    palette: Palette
    style: Style
    block: int
    backdrop: Backdrop
    motion: Motion
    dynamics: Dynamics
    face: Expression
    particles: list[Particles]
    background: Image.Image
    """At output size; frames scale it up (see _background_with_rays)."""
    lit_background: Image.Image | None
    """The background under full ray light, or None for moods without rays."""
    caption: Image.Image
    ray_offset: float


def build_scene(spec: GenerationSpec) -> Scene:
    """Steps 1-4: read the spec, choose the look, seed the details, draw the still parts."""
    rng = np.random.default_rng(spec.seed)
    hue = float(rng.uniform(-MAX_HUE_SHIFT, MAX_HUE_SHIFT))
    layout = layout_for(spec.width, spec.height)
    palette = palette_for(spec.mood, hue)
    style = style_for(spec.style)
    dynamics = DYNAMICS[spec.intensity]
    backdrop = BACKDROPS[spec.mood]
    particles = make_particles(MOOD_EFFECTS[spec.mood], layout, dynamics.density, rng)
    left, top, right, bottom = layout.caption_box
    block = pixel_block(style, spec.width, spec.height)
    # Pixel-art captions use half-size pixels: whole-size ones leave too few to spell with.
    text_block = max(1, block // 2)
    caption = render_caption(
        caption_text(spec.caption, spec.prompt),
        (right - left) // text_block * text_block,
        (bottom - top) // text_block * text_block,
        palette,
        pixel_block=text_block,
    )
    background = render_background(layout, palette, backdrop, style.halftone, 1)
    return Scene(
        spec=spec,
        layout=layout,
        palette=palette,
        style=style,
        block=block,
        backdrop=backdrop,
        motion=MOTIONS[spec.mood],
        dynamics=dynamics,
        face=expression_for(spec.mood, dynamics.strength),
        particles=particles,
        background=background,
        lit_background=with_rays(background, palette, backdrop) if backdrop.rays else None,
        caption=caption,
        ray_offset=float(rng.uniform(0.0, 360.0)),
    )


def render_frame(scene: Scene, index: int) -> np.ndarray:
    """Frame ``index`` of the loop as (height, width, 3) uint8."""
    frames = scene.spec.frames
    phase = 2.0 * math.pi * index / frames
    t = index / frames
    lay, speed = scene.layout, scene.dynamics.speed

    canvas = _background_with_rays(scene, t)
    draw = ImageDraw.Draw(canvas, "RGBA")
    pen = Pen(draw, Affine.scale(SUPERSAMPLE))
    pop = pop_wave(scene.motion, speed, phase, frames)
    effect_frame = EffectFrame(lay, scene.palette, t, speed, pop)
    for ps in scene.particles:
        if not ps.layer.front:
            draw_particles(pen, ps, effect_frame)

    pose = pose_at(scene.motion, scene.dynamics, phase, frames)
    r = lay.face_r
    x, y = lay.face_x + pose.dx * r, lay.face_y + pose.dy * r
    shadow = 1.0 - 0.45 * pose.lift
    pen.ellipse(
        lay.face_x + pose.dx * r,
        lay.face_y + r * 1.06,
        r * 0.75 * shadow * pose.sx,
        r * 0.12 * shadow,
        fill=(0, 0, 0, round(70 * shadow)),
    )
    # Squash about the chin, so a landing hop flattens onto the ground instead of shrinking.
    head = (
        Affine.translate(x, y + r * (1.0 - pose.sy))
        @ Affine.rotate(pose.angle)
        @ Affine.scale(r * pose.sx, r * pose.sy)
    )
    draw_face(pen.moved(head), scene.face, scene.palette, FaceFrame(phase, speed))

    for ps in scene.particles:
        if ps.layer.front:
            draw_particles(pen, ps, effect_frame)

    image = canvas.reduce(SUPERSAMPLE)
    if scene.block > 1:
        image = pixelate(image, scene.style, scene.block)
    left, top, _, _ = lay.caption_box
    image.paste(scene.caption, (left, top), scene.caption)
    return np.asarray(image, dtype=np.uint8)


def _background_with_rays(scene: Scene, t: float) -> Image.Image:
    """The background at supersampled size, with light wedges that turn by exactly one wedge pair
    per loop (times the speed).

    The wedges are blended at output size through an anti-aliased mask and the result is scaled up
    by nearest neighbour: the final 2x2 reduce gives those pixels back exactly, at a fraction of the
    cost of blending at the supersampled size.
    """
    if scene.lit_background is None:
        return scene.background.resize(_supersampled(scene.layout), Image.Resampling.NEAREST)
    lay, n = scene.layout, scene.backdrop.rays
    mask = Image.new("L", _supersampled(lay), 0)
    draw = ImageDraw.Draw(mask)
    r = math.hypot(lay.width, lay.height) * SUPERSAMPLE
    step = 360.0 / n
    turn = scene.ray_offset + step * scene.dynamics.speed * t
    cx, cy = lay.face_x * SUPERSAMPLE, lay.face_y * SUPERSAMPLE
    for k in range(n):
        a0 = math.radians(turn + k * step)
        a1 = a0 + math.radians(step / 2)
        wedge = [
            (cx, cy),
            (cx + r * math.cos(a0), cy + r * math.sin(a0)),
            (cx + r * math.cos(a1), cy + r * math.sin(a1)),
        ]
        draw.polygon(wedge, fill=255)
    lit = Image.composite(scene.lit_background, scene.background, mask.reduce(SUPERSAMPLE))
    return lit.resize(_supersampled(lay), Image.Resampling.NEAREST)


def _supersampled(layout: Layout) -> tuple[int, int]:
    return (layout.width * SUPERSAMPLE, layout.height * SUPERSAMPLE)


def render_clip(spec: GenerationSpec, on_frame: Callable[[int], None] | None = None) -> np.ndarray:
    """All frames of ``spec`` as (frames, height, width, 3) uint8; ``on_frame(i)`` after each."""
    scene = build_scene(spec)
    out = np.empty((spec.frames, spec.height, spec.width, 3), dtype=np.uint8)
    for i in range(spec.frames):
        out[i] = render_frame(scene, i)
        if on_frame is not None:
            on_frame(i)
    return out
