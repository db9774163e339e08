"""From a message to a GenerationSpec: mood, intensity and the prompt templates."""

from reactclip.engine.prompting.builder import build_prompt, short_caption, spec_from_text
from reactclip.engine.prompting.cues import guess_intensity, guess_mood

__all__ = ["build_prompt", "guess_intensity", "guess_mood", "short_caption", "spec_from_text"]
