"""Text in, GenerationSpec out: mood and intensity (a reading or the cues), the subject, and the
operator's templates."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from reactclip.engine.mood import Intensity, Mood
from reactclip.engine.prompting.cues import guess_intensity, guess_mood
from reactclip.engine.prompting.emotion import EmotionReading
from reactclip.engine.prompting.subject import extract_subject
from reactclip.engine.spec import (
    DEFAULT_NEGATIVE_PROMPT,
    MAX_CAPTION_CHARS,
    GenerationSpec,
    SpecError,
    seed_for,
)

CAPTION_CHARS = 60
TEXT_CHARS = 200
"""How much of the message goes into a reaction prompt."""


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@cache
def load_templates(path: Path | None = None) -> Mapping[str, Any]:
    """The shipped templates, with an operator's TOML file (if given) laid over them: a file that
    sets only ``[prompt] default_subject`` or adds one style keeps everything else. Read-only (the
    result is cached and shared): tables are mappings, arrays tuples."""
    text = resources.files("reactclip.engine.prompting").joinpath("templates.toml").read_text("utf-8")
    templates = tomllib.loads(text)
    if path is not None:
        try:
            templates = _merge(templates, tomllib.loads(Path(path).read_text("utf-8")))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SpecError("templates", f"cannot read {path}: {exc}") from exc
    missing = [m.value for m in Mood if m.value not in templates.get("moods", {})]
    if missing:
        raise SpecError("templates", f"{path or 'templates.toml'} has no [moods.{missing[0]}] table")
    return _read_only(templates)


def _read_only(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({key: _read_only(item) for key, item in value.items()})
    if isinstance(value, list):
        return tuple(_read_only(item) for item in value)
    return value


def short_caption(text: str, limit: int = CAPTION_CHARS) -> str:
    """One line of the text for the sticker caption, cut at a word boundary with an ellipsis."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1].rsplit(" ", 1)[0] or line[: limit - 1]
    return cut.rstrip(",.;:!? ") + "…"


def _sentence_start(words: str) -> str:
    return words[:1].upper() + words[1:]


def build_prompt(
    text: str,
    mood: Mood,
    intensity: Intensity,
    style: str,
    subject: str | None = None,
    *,
    subject_named: bool = False,
    templates_path: Path | None = None,
) -> str:
    """The prompt for the video model. ``subject_named``: the subject comes from the message itself,
    so the clip shows it (``subject_template``) instead of a reaction to the message."""
    templates = load_templates(templates_path)
    styles = check_style(style, templates_path)
    prompt = templates["prompt"]
    mood_words = templates["moods"][mood.value]
    template = prompt["subject_template"] if subject_named else prompt["template"]
    motion = mood_words["motion"]
    return str(template).format(
        subject=_sentence_start(subject or prompt["default_subject"]),
        action=mood_phrase(mood_words["action"], intensity),
        motion=mood_phrase(motion, intensity),
        expression=mood_phrase(mood_words.get("expression", motion), intensity),
        intensity_words=templates["intensity"][intensity.value],
        text=" ".join(text.split())[:TEXT_CHARS].replace('"', "'"),
        style_words=styles[style]["words"],
        camera=prompt["camera"],
    )


def mood_phrase(words: str | dict[str, str], intensity: Intensity) -> str:
    """A mood's action, motion or expression at ``intensity``: templates give one phrase for all
    intensities or one per intensity, so that the words agree with the intensity words."""
    if isinstance(words, str):
        return words
    try:
        return str(words[intensity.value])
    except KeyError:
        raise SpecError("templates", f"a mood's words have no {intensity.value!r} entry") from None


def check_style(style: str, templates_path: Path | None = None) -> dict[str, Any]:
    """The templates' style table, after checking ``style`` is one of its presets."""
    styles: dict[str, Any] = load_templates(templates_path)["styles"]
    if style not in styles:
        raise SpecError("style", f"{style!r} is not one of {', '.join(styles)}")
    return styles


def negative_prompt_for(mood: Mood, templates_path: Path | None = None) -> str:
    """The default negative prompt plus the mood's own additions from the templates."""
    extra = str(load_templates(templates_path)["moods"][mood.value].get("negative", "")).strip()
    return f"{DEFAULT_NEGATIVE_PROMPT}, {extra}" if extra else DEFAULT_NEGATIVE_PROMPT


def spec_from_text(
    text: str,
    *,
    reading: EmotionReading | None = None,
    mood: Mood | None = None,
    intensity: Intensity | None = None,
    style: str = "cartoon",
    mascot: str | None = None,
    seed: int | None = None,
    templates_path: Path | None = None,
    **spec_fields: Any,
) -> GenerationSpec:
    """A spec for a reaction to ``text``.

    Mood and intensity: the arguments win, then ``reading`` (from an EmotionReader), then the surface
    cues. A request that names its subject ("gif of pikachu crying") shows that subject; any other
    message shows ``mascot`` (or the templates' default subject) reacting to it. The seed derives
    from the text and style, so the same request and settings give the same spec.
    """
    if not text.strip():
        raise SpecError("text", "there is nothing to react to")
    templates = load_templates(templates_path)
    if reading is not None:
        mood = mood or reading.mood
        intensity = intensity or reading.intensity
    mood = mood or guess_mood(text)
    intensity = intensity or guess_intensity(text)
    named = extract_subject(text, templates.get("subject", {}))
    prompt = build_prompt(
        text,
        mood,
        intensity,
        style,
        named or mascot,
        subject_named=named is not None,
        templates_path=templates_path,
    )
    spec_fields.setdefault("negative_prompt", negative_prompt_for(mood, templates_path))
    return GenerationSpec(
        prompt=prompt,
        caption=short_caption(text, min(CAPTION_CHARS, MAX_CAPTION_CHARS)),
        style=style,
        mood=mood,
        intensity=intensity,
        seed=seed_for(f"{style}\n{text}") if seed is None else seed,
        **spec_fields,
    )
