"""The ``reactclip`` command: generate clips from a terminal on embedded defaults."""

from __future__ import annotations

import json
import logging
import re
import sys
from pathlib import Path
from typing import Annotated

import typer

from reactclip.bot.errors import UserInputError, describe, exit_code
from reactclip.bot.settings import Settings

app = typer.Typer(
    help="reactclip: answer a message with a short AI-generated reaction clip.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
log = logging.getLogger("reactclip")

BACKENDS = ("auto", "wan", "tiny", "sticker")


@app.callback()
def _root(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show debug logs")] = False,
) -> None:
    logging.basicConfig(format="reactclip: %(message)s", level=logging.WARNING, stream=sys.stderr)
    log.setLevel(logging.DEBUG if verbose else logging.INFO)


def slug(text: str, limit: int = 32) -> str:
    """A file-name-safe stem from the text."""
    words = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return words[:limit].rstrip("-") or "clip"


@app.command()
def generate(
    text: Annotated[str, typer.Argument(help="The message to react to")],
    out: Annotated[
        Path | None, typer.Option(help="Where to write the clip (default: out/<text>.<fmt>)")
    ] = None,
    backend: Annotated[str | None, typer.Option(help="auto, wan, tiny or sticker")] = None,
    frames: Annotated[int, typer.Option(help="Frames in the clip, 8-16")] = 16,
    size: Annotated[str, typer.Option(help="832x480, 480x832, 480x480 or WIDTHxHEIGHT")] = "832x480",
    fps: Annotated[int, typer.Option(help="Frames per second, 8-16")] = 12,
    steps: Annotated[int, typer.Option(help="Denoising steps")] = 20,
    guidance: Annotated[float, typer.Option(help="Classifier-free guidance scale (6-9 works best)")] = 7.0,
    seed: Annotated[int | None, typer.Option(help="Random seed (default: derived from the text)")] = None,
    format: Annotated[str, typer.Option("--format", help="mp4, gif or webp")] = "mp4",
    style: Annotated[
        str, typer.Option(help="cartoon, anime, pixel art, claymation or realistic")
    ] = "cartoon",
    mood: Annotated[str | None, typer.Option(help="Override the mood read from the text")] = None,
    model: Annotated[str | None, typer.Option(help="Wan weights: a local folder or a hub id")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the clip's metadata as JSON")] = False,
) -> None:
    """Make one reaction clip and write it to a file."""
    try:
        _generate(
            text, out, backend, frames, size, fps, steps, guidance, seed, format, style, mood, model, as_json
        )
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    except Exception as exc:
        typer.echo(f"reactclip: {describe(exc)}", err=True)
        raise typer.Exit(exit_code(exc)) from None


def _generate(
    text: str,
    out: Path | None,
    backend_name: str | None,
    frames: int,
    size: str,
    fps: int,
    steps: int,
    guidance: float,
    seed: int | None,
    fmt: str,
    style: str,
    mood: str | None,
    model: str | None,
    as_json: bool,
) -> None:
    from reactclip.bot.progress import ProgressReporter
    from reactclip.engine.backends import create_backend
    from reactclip.engine.clipmaker import ClipMaker
    from reactclip.engine.mood import Mood
    from reactclip.engine.prompting import spec_from_text
    from reactclip.engine.spec import SpecError, parse_size

    settings = Settings()
    if backend_name is not None and backend_name not in BACKENDS:
        raise UserInputError(f"backend {backend_name!r} is not one of {', '.join(BACKENDS)}")
    if model is not None:
        settings.engine.wan.model = model
    try:
        mood_value = Mood(mood) if mood else None
    except ValueError:
        raise SpecError("mood", f"{mood!r} is not one of {', '.join(m.value for m in Mood)}") from None
    width, height = parse_size(size)
    spec = spec_from_text(
        text,
        mood=mood_value,
        style=style,
        seed=seed,
        width=width,
        height=height,
        frames=frames,
        fps=fps,
        steps=steps,
        guidance=guidance,
        format=fmt,
    )
    maker = ClipMaker(create_backend(settings.engine, backend_name), settings.engine.upload_limit_bytes)
    try:
        with ProgressReporter(enabled=not as_json) as progress:
            clip = maker.make(spec, progress.update)
    finally:
        maker.close()
    path = out or settings.engine.output_dir / f"{slug(text)}-{spec.seed:08x}.{clip.format.value}"
    clip.write(path)
    if as_json:
        typer.echo(json.dumps({"path": str(path), **clip.metadata()}, ensure_ascii=False))
        return
    t = clip.timings
    typer.echo(
        f"wrote {path} ({clip.width}x{clip.height}, {clip.frames} frames at {clip.fps:g} fps, "
        f"{clip.size_bytes / 1024:.0f} KiB) with {clip.backend} [{clip.variant}] in {t.total:.2f} s"
    )
    stages = ("text_encoding", "denoising", "decoding", "rendering", "encoding")
    typer.echo(
        "  " + ", ".join(f"{s.replace('_', ' ')} {getattr(t, s):.2f} s" for s in stages if getattr(t, s))
    )
    for note in clip.encode_notes:
        typer.echo(f"  note: {note}")


def main() -> None:
    app()
