"""What ``ReactionService.handle`` reports about one request, in order:

Heard (audio only) -> Analysed, or Refusal (the end) -> PreviewReady (maybe) -> Progress... ->
Finished, Refusal (the frame check) or Failed.

Exactly one of Finished, Refusal and Failed ends every stream. Progress carries the executor's own
events (Queued with position and expected wait, Started, Step k of n, Decoding), re-exported here so
that entry points read everything from one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from reactclip.bot.analysis import Analysis
from reactclip.bot.refusals import Refused
from reactclip.engine.clip import Clip
from reactclip.engine.executor.events import Decoding, Done, ProgressEvent, Queued, Started, Step
from reactclip.moderation.verdict import FrameVerdict


@dataclass(frozen=True)
class Heard:
    """The words of an audio request, before anything is judged."""

    text: str


@dataclass(frozen=True)
class Analysed:
    """The text passed moderation; ``analysis.spec`` is what will be generated."""

    analysis: Analysis


@dataclass(frozen=True)
class PreviewReady:
    """The sticker version of the request, drawn while its clip is made; never after the end."""

    clip: Clip


@dataclass(frozen=True)
class Progress:
    """The executor's progress on the clip."""

    event: ProgressEvent


@dataclass(frozen=True)
class Finished:
    """The clip, past the frame check under this request's policy (``frames``: that verdict; None
    where the frame check is off). ``note``: why the clip is not quite what was asked (a
    high-quality preview where only the sticker renderer runs), to show beside it."""

    clip: Clip
    frames: FrameVerdict | None = None
    note: str | None = None


@dataclass(frozen=True)
class Refusal:
    """Moderation said no, before generation (TextRefused) or after it (FrameRefused); ``str``
    of the error is the polite reason."""

    error: Refused


@dataclass(frozen=True)
class Failed:
    """Anything else that ended the request: unusable audio, nothing made out, a bad option, a
    full queue (Busy), a generation failure. The error is typed; entry points word it."""

    error: Exception


Event = Heard | Analysed | PreviewReady | Progress | Finished | Refusal | Failed
Final = (Finished, Refusal, Failed)

__all__ = [
    "Analysed",
    "Decoding",
    "Done",
    "Event",
    "Failed",
    "Final",
    "Finished",
    "Heard",
    "PreviewReady",
    "Progress",
    "ProgressEvent",
    "Queued",
    "Refusal",
    "Started",
    "Step",
]
