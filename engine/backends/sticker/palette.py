"""Mood -> colours. One table, so that a mood's background, face and particles always agree."""

from __future__ import annotations

import colorsys
import dataclasses
from dataclasses import dataclass
from typing import Any

from reactclip.engine.mood import Mood

RGB = tuple[int, int, int]


def _hex(code: str) -> RGB:
    code = code.lstrip("#")
    return (int(code[0:2], 16), int(code[2:4], 16), int(code[4:6], 16))


@dataclass(frozen=True)
class Palette:
    bg_top: RGB
    bg_bottom: RGB
    glow: RGB
    """The light behind the face, which lifts it off the background."""
    head: RGB
    head_shade: RGB
    outline: RGB
    blush: RGB
    mouth: RGB
    tongue: RGB
    particles: tuple[RGB, ...]
    """Colours for confetti, hearts, drops and the like."""
    rays: RGB
    caption: RGB = (255, 255, 255)
    caption_stroke: RGB = (24, 16, 28)

    def shifted(self, hue: float) -> Palette:
        """The same palette turned round the colour wheel by ``hue`` (a fraction of a turn).

        A seed moves the hue a few degrees, so two clips of one mood look related but not identical.
        """
        changes: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name.startswith("caption"):
                continue
            value = getattr(self, f.name)
            changes[f.name] = (
                tuple(_turn(c, hue) for c in value) if f.name == "particles" else _turn(value, hue)
            )
        return dataclasses.replace(self, **changes)


def _turn(rgb: RGB, hue: float) -> RGB:
    h, lightness, s = colorsys.rgb_to_hls(*(c / 255 for c in rgb))
    r, g, b = colorsys.hls_to_rgb((h + hue) % 1.0, lightness, s)
    return (round(r * 255), round(g * 255), round(b * 255))


def _palette(
    bg: tuple[str, str],
    glow: str,
    head: str,
    shade: str,
    outline: str,
    particles: tuple[str, ...],
    rays: str,
    blush: str = "#FF7A9C",
    mouth: str = "#5C1630",
    tongue: str = "#FF6F8E",
) -> Palette:
    return Palette(
        bg_top=_hex(bg[0]),
        bg_bottom=_hex(bg[1]),
        glow=_hex(glow),
        head=_hex(head),
        head_shade=_hex(shade),
        outline=_hex(outline),
        blush=_hex(blush),
        mouth=_hex(mouth),
        tongue=_hex(tongue),
        particles=tuple(_hex(p) for p in particles),
        rays=_hex(rays),
    )


PALETTES: dict[Mood, Palette] = {
    Mood.JOY: _palette(
        bg=("#FFB938", "#FF7A2E"),
        glow="#FFF1A8",
        head="#FFDD3C",
        shade="#F5A623",
        outline="#3A1F0B",
        particles=("#FF4F79", "#38C6F4", "#7CE07A", "#FFFFFF", "#B77CFF", "#FFE14D"),
        rays="#FFE27A",
    ),
    Mood.LOVE: _palette(
        bg=("#FFB3CE", "#FF6F9F"),
        glow="#FFE3EE",
        head="#FFC2D6",
        shade="#F58FB1",
        outline="#4A0F26",
        particles=("#FF2E63", "#E0115F", "#FF7AA2", "#FFFFFF"),
        rays="#FFD0E0",
        blush="#FF3E7A",
    ),
    Mood.SADNESS: _palette(
        bg=("#5A7FB8", "#22345E"),
        glow="#8FB2E0",
        head="#9CCBFF",
        shade="#6A9AD8",
        outline="#111C38",
        particles=("#CFE6FF", "#A6D0FF", "#EAF4FF"),
        rays="#6E93C8",
        blush="#7FA6E6",
        mouth="#1B2A52",
    ),
    Mood.ANGER: _palette(
        bg=("#B3122E", "#4A0612"),
        glow="#FF6A3D",
        head="#FF5A3C",
        shade="#D12E2E",
        outline="#2A0508",
        particles=("#FFFFFF", "#FFD9D0", "#FFB199"),
        rays="#D9302C",
        blush="#B3001B",
        mouth="#3A0609",
    ),
    Mood.FEAR: _palette(
        bg=("#45306E", "#120A22"),
        glow="#7D5FB8",
        head="#D7C8F5",
        shade="#A892DB",
        outline="#160B28",
        particles=("#B59CF0", "#8C74C9", "#E4DAFF"),
        rays="#5A4290",
        blush="#B8A3F0",
        mouth="#231238",
    ),
    Mood.SURPRISE: _palette(
        bg=("#33C8FF", "#5B5CFF"),
        glow="#E8FBFF",
        head="#FFD23F",
        shade="#F59E1B",
        outline="#1C1440",
        particles=("#FFE94D", "#FFFFFF", "#FF5FA2"),
        rays="#9BE8FF",
    ),
    Mood.DISGUST: _palette(
        bg=("#8CC152", "#3B6B1E"),
        glow="#D4F29A",
        head="#B8E35A",
        shade="#86B83A",
        outline="#1E2E0A",
        particles=("#6E8F2A", "#A4C639", "#D8F0A0"),
        rays="#9ACD55",
        blush="#7FA83A",
        mouth="#2E3A0E",
        tongue="#E86A8A",
    ),
    Mood.NEUTRAL: _palette(
        bg=("#9DBDB8", "#5B7F7B"),
        glow="#DCEBE8",
        head="#F2E6C4",
        shade="#D3C29A",
        outline="#1F2E2D",
        particles=("#E6F2F0", "#C3DAD6", "#FFFFFF"),
        rays="#B3CFCA",
        blush="#E8B4A8",
        mouth="#3A2A2A",
    ),
}


def palette_for(mood: Mood, hue_shift: float = 0.0) -> Palette:
    base = PALETTES[mood]
    return base.shifted(hue_shift) if hue_shift else base
