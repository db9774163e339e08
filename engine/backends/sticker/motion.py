"""How the character moves for each mood and intensity.

Every term is a function of the loop phase with a whole number of cycles per clip, so the last frame
flows into the first. Moods are rows of data (amplitudes and cycle counts), not branches of code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from reactclip.engine.mood import Intensity, Mood


@dataclass(frozen=True)
class Motion:
    """Amplitudes in face radii (or degrees for ``sway``) and cycles per loop."""

    hop: float = 0.0
    hop_cycles: int = 2
    sway: float = 0.0
    sway_cycles: int = 1
    shake: float = 0.0
    shake_cycles: int = 5
    pulse: float = 0.0
    pulse_cycles: int = 2
    droop: float = 0.0
    pop: float = 0.0
    pop_cycles: int = 1
    wobble: float = 0.0
    wobble_cycles: int = 2


@dataclass(frozen=True)
class Dynamics:
    """What an intensity does: bigger, faster motion, a stronger face and more particles."""

    amplitude: float
    speed: int
    """Multiplies every cycle count; whole, so the loop stays seamless."""
    strength: float
    """How far the expression goes from neutral towards the mood (0..1)."""
    density: float


@dataclass(frozen=True)
class Pose:
    """Where the face is in one frame, relative to its rest position (in face radii and degrees)."""

    dx: float = 0.0
    dy: float = 0.0
    angle: float = 0.0
    sx: float = 1.0
    sy: float = 1.0
    lift: float = 0.0
    """Height above the ground (0..1), which shrinks the shadow."""


MOTIONS: dict[Mood, Motion] = {
    Mood.JOY: Motion(hop=0.22, hop_cycles=2, sway=6.0, sway_cycles=1),
    Mood.LOVE: Motion(pulse=0.06, pulse_cycles=2, sway=7.0, sway_cycles=1, hop=0.05, hop_cycles=1),
    Mood.SADNESS: Motion(droop=0.10, sway=3.0, sway_cycles=1, wobble=0.015, wobble_cycles=1),
    Mood.ANGER: Motion(shake=0.05, shake_cycles=5, pulse=0.035, pulse_cycles=2),
    Mood.FEAR: Motion(shake=0.025, shake_cycles=7, wobble=0.02, wobble_cycles=3, droop=0.04),
    Mood.SURPRISE: Motion(pop=0.16, pop_cycles=1, hop=0.06, hop_cycles=1, sway=2.0),
    Mood.DISGUST: Motion(wobble=0.05, wobble_cycles=2, sway=8.0, sway_cycles=1),
    Mood.NEUTRAL: Motion(sway=4.0, sway_cycles=1, hop=0.025, hop_cycles=1),
}

DYNAMICS: dict[Intensity, Dynamics] = {
    Intensity.LOW: Dynamics(amplitude=0.45, speed=1, strength=0.55, density=0.55),
    Intensity.MEDIUM: Dynamics(amplitude=1.0, speed=1, strength=0.8, density=1.0),
    Intensity.HIGH: Dynamics(amplitude=1.6, speed=2, strength=1.0, density=1.5),
}


def cycles(base: int, speed: int, frames: int) -> int:
    """A whole cycle count, kept under the frame rate's limit so fast shakes do not alias to still."""
    return max(1, min(base * speed, frames // 2 - 1))


def pose_at(motion: Motion, dynamics: Dynamics, phase: float, frames: int) -> Pose:
    """The pose at ``phase`` (0..2*pi over the loop)."""
    amp, speed = dynamics.amplitude, dynamics.speed

    # Slow, extreme poses sit at phase 0 and fast moments (landings, pops) mid-loop, so the seam
    # where the player wraps round is the calmest moment of the clip.
    hop_wave = abs(math.cos(cycles(motion.hop_cycles, speed, frames) * phase / 2))
    lift = motion.hop * amp * hop_wave
    contact = (1.0 - hop_wave) ** 6 * min(1.0, motion.hop * amp * 5)
    sx = 1.0 + 0.07 * contact
    sy = 1.0 - 0.09 * contact

    k = cycles(motion.shake_cycles, speed, frames)
    dx = motion.shake * amp * (0.7 * math.sin(k * phase + 0.3) + 0.3 * math.sin((k + 2) * phase + 1.1))
    dy = motion.shake * amp * 0.5 * math.sin((k + 1) * phase + 2.0) - lift

    angle = motion.sway * amp * math.cos(cycles(motion.sway_cycles, speed, frames) * phase)

    pulse = motion.pulse * amp * math.cos(cycles(motion.pulse_cycles, speed, frames) * phase)
    pop = motion.pop * amp * pop_wave(motion, speed, phase, frames)
    scale = 1.0 + pulse + pop
    dy -= 0.3 * pop

    droop = motion.droop * amp * (0.5 - 0.5 * math.cos(phase))
    dy += droop
    sy *= 1.0 - 0.3 * droop

    wobble = motion.wobble * amp * math.cos(cycles(motion.wobble_cycles, speed, frames) * phase)
    sx *= 1.0 + wobble
    sy *= 1.0 - wobble

    return Pose(dx=dx, dy=dy, angle=angle, sx=sx * scale, sy=sy * scale, lift=min(1.0, lift / 0.35))


def pop_wave(motion: Motion, speed: int, phase: float, frames: int) -> float:
    """A sharp 0..1 peak mid-cycle: the surprise pop, shared with the burst lines."""
    return ((1 - math.cos(cycles(motion.pop_cycles, speed, frames) * phase)) / 2) ** 8
