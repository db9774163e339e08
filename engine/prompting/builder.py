"""Text in, GenerationSpec out: mood and intensity cues plus the operator's templates."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from reactclip.engine.mood import Intensity, Mood
from reactclip.engine.prompting.cues import guess_intensity, guess_mood
from reactclip.engine.spec import MAX_CAPTION_CHARS, GenerationSpec, SpecError, seed_for

CAPTION_CHARS = 60


@cache
def load_templates(path: Path | None = None) -> dict[str, Any]:
    """The template file: the one shipped with reactclip unless a path is given."""
    if path is None:
        text = resources.files("reactclip.engine.prompting").joinpath("templates.toml").read_text("utf-8")
        return tomllib.loads(text)
    return tomllib.loads(path.read_text("utf-8"))


def short_caption(text: str, limit: int = CAPTION_CHARS) -> str:
    """One line of the text for the sticker caption, cut at a word boundary with an ellipsis."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1].rsplit(" ", 1)[0] or line[: limit - 1]
    return cut.rstrip(",.;:!? ") + "…"


def build_prompt(text: str, mood: Mood, intensity: Intensity, style: str, subject: str | None = None) -> str:
    templates = load_templates()
    styles = templates["styles"]
    if style not in styles:
        raise SpecError("style", f"{style!r} is not one of {', '.join(styles)}")
    mood_words = templates["moods"][mood.value]
    return str(templates["prompt"]["template"]).format(
        subject=(subject or templates["prompt"]["default_subject"]).capitalize(),
        action=mood_words["action"],
        motion=mood_words["motion"],
        intensity_words=templates["intensity"][intensity.value],
        text=" ".join(text.split())[:200].replace('"', "'"),
        style_words=styles[style]["words"],
        camera=templates["prompt"]["camera"],
    )


def spec_from_text(
    text: str,
    *,
    mood: Mood | None = None,
    intensity: Intensity | None = None,
    style: str = "cartoon",
    subject: str | None = None,
    seed: int | None = None,
    **fields: Any,
) -> GenerationSpec:
    """A spec for a reaction to ``text``. Mood and intensity are read from the text unless given;
    the seed derives from the text and style, so the same request gives the same spec."""
    if not text.strip():
        raise SpecError("text", "there is nothing to react to")
    mood = mood or guess_mood(text)
    intensity = intensity or guess_intensity(text)
    return GenerationSpec(
        prompt=build_prompt(text, mood, intensity, style, subject),
        caption=short_caption(text, min(CAPTION_CHARS, MAX_CAPTION_CHARS)),
        style=style,
        mood=mood,
        intensity=intensity,
        seed=seed_for(f"{style}\n{text}") if seed is None else seed,
        **fields,
    )
