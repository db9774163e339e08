"""Verdicts: what moderation decided, which layer decided it, and what to tell the user."""

from __future__ import annotations

from dataclasses import dataclass

from reactclip.moderation.categories import Category


@dataclass(frozen=True)
class TextVerdict:
    allowed: bool
    category: Category
    """The most likely unsafe category, or NONE."""
    confidence: float
    """0-1: how sure the deciding layer is of ``category``."""
    layer: str
    """Which layer decided: "lexicon", "semantic", "classifier", "real_person" or "policy"."""
    reason: str
    """A short, polite sentence fit to show the user."""
    supportive: bool = False
    """The message asks how to support someone else who is struggling (support.py): allowed, and
    best answered with care (a hug), whatever distress it describes."""


@dataclass(frozen=True)
class FrameVerdict:
    allowed: bool
    category: Category
    confidence: float
    reason: str
    frames_checked: int
    """How many sampled frames went through the detector."""
