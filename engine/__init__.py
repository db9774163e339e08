"""reactclip's engine: a GenerationSpec in, an encoded Clip out.

The engine knows nothing of Discord, speech or moderation (see DESIGN.md's seams); the bot wires
those in front of it.
"""

from reactclip.engine.clip import Clip, StageTimings
from reactclip.engine.mood import Intensity, Mood
from reactclip.engine.spec import GenerationSpec, OutputFormat, SpecError

__all__ = ["Clip", "GenerationSpec", "Intensity", "Mood", "OutputFormat", "SpecError", "StageTimings"]
