"""From a message to a GenerationSpec: emotion, intensity, subject and the prompt templates."""

from reactclip.engine.prompting.builder import (
    build_prompt,
    load_templates,
    negative_prompt_for,
    short_caption,
    spec_from_text,
)
from reactclip.engine.prompting.cues import guess_intensity, guess_mood
from reactclip.engine.prompting.emotion import (
    DEFAULT_LABEL_MAP,
    EmotionModelError,
    EmotionReader,
    EmotionReading,
    StatesEmbedder,
)
from reactclip.engine.prompting.subject import extract_subject

__all__ = [
    "DEFAULT_LABEL_MAP",
    "EmotionModelError",
    "EmotionReader",
    "EmotionReading",
    "StatesEmbedder",
    "build_prompt",
    "extract_subject",
    "guess_intensity",
    "guess_mood",
    "load_templates",
    "negative_prompt_for",
    "short_caption",
    "spec_from_text",
]
