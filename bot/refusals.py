"""Typed refusals: moderation said no. The message is already fit to show the user."""

from __future__ import annotations

from reactclip.moderation import FrameVerdict, TextVerdict


class Refused(Exception):
    """A request or its clip was refused; ``str(exc)`` is the polite reason."""

    def __init__(self, reason: str, category: str) -> None:
        super().__init__(reason)
        self.category = category


class TextRefused(Refused):
    """Refused before any generation."""

    def __init__(self, verdict: TextVerdict) -> None:
        super().__init__(verdict.reason, verdict.category.value)
        self.verdict = verdict


class FrameRefused(Refused):
    """The generated clip failed the frame check; it was neither sent nor kept."""

    def __init__(self, verdict: FrameVerdict) -> None:
        super().__init__(verdict.reason, verdict.category.value)
        self.verdict = verdict
