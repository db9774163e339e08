"""The ``reactclip`` command: generate and analyse from a terminal, on embedded defaults; transcribe
audio; download the models reactclip runs offline.

Every clip goes through the same ReactionService as Discord (a Request in, events out), so
moderation always runs, for speech too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from reactclip.bot import doctor, serving
from reactclip.bot.ab_report import ab
from reactclip.bot.cli_options import MemoryPlanOption, backend_name, quality_name
from reactclip.bot.errors import UserInputError, reported
from reactclip.bot.logs import LogFormat, configure_logging
from reactclip.bot.model_downloads import models
from reactclip.bot.review import cli as review_cli
from reactclip.bot.settings import Settings
from reactclip.engine.spec import MAX_FRAMES, MIN_FRAMES, GenerationSpec

if TYPE_CHECKING:
    from reactclip.bot.analysis import Analyzer
    from reactclip.bot.request import Options, Origin
    from reactclip.bot.service import ReactionService
    from reactclip.engine.clip import Clip
    from reactclip.moderation import RequestContext

app = typer.Typer(
    help="reactclip: answer a message with a short AI-generated reaction clip.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
log = logging.getLogger("reactclip")
app.add_typer(models, name="models")
app.add_typer(ab, name="ab")

SPEC = GenerationSpec(prompt="defaults")
"""The spec's own defaults, shown in the options' help; an option left out keeps them."""
CLI_USER = "cli"
JSONL_CHUNK = 256

NsfwOption = Annotated[
    bool, typer.Option("--nsfw-channel", help="Judge as in a channel marked NSFW (adult content allowed)")
]
RawPromptOption = Annotated[
    bool, typer.Option("--raw-prompt", help="Use the text as the prompt as is (moderation still runs)")
]
StyleOption = Annotated[
    str | None, typer.Option(help="cartoon, anime, pixel art, claymation, realistic (default: settings)")
]


@app.callback()
def _root(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show debug logs")] = False,
    log_format: Annotated[
        LogFormat,
        typer.Option(
            envvar="REACTCLIP_LOG_FORMAT", help="text, or json: one object per line with the request id"
        ),
    ] = "text",
) -> None:
    configure_logging(log_format, verbose=verbose)


def slug(text: str, limit: int = 32) -> str:
    """A file-name-safe stem from the text."""
    words = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return words[:limit].rstrip("-") or "clip"


def _origin(nsfw_channel: bool) -> Origin:
    from reactclip.bot.request import Origin, hash_user

    return Origin("cli", hash_user(CLI_USER), nsfw_channel=nsfw_channel)


def _service(settings: Settings) -> ReactionService:
    from reactclip.bot.service import ReactionService

    return ReactionService.from_settings(settings)


@app.command()
def generate(
    text: Annotated[str | None, typer.Argument(help="The message to react to (or --audio)")] = None,
    audio: Annotated[
        Path | None, typer.Option(help="React to the speech in this audio file instead of TEXT")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Where to write the clip (default: out/...)")] = None,
    backend: Annotated[str | None, typer.Option(help="auto, wan, tiny or sticker")] = None,
    frames: Annotated[
        int | None,
        typer.Option(help=f"Frames in the clip, {MIN_FRAMES}-{MAX_FRAMES} (default {SPEC.frames})"),
    ] = None,
    size: Annotated[
        str | None,
        typer.Option(help=f"832x480, 480x832, 480x480 or WIDTHxHEIGHT (default {SPEC.width}x{SPEC.height})"),
    ] = None,
    fps: Annotated[int | None, typer.Option(help=f"Frames per second, 8-16 (default {SPEC.fps})")] = None,
    steps: Annotated[int | None, typer.Option(help=f"Denoising steps (default {SPEC.steps})")] = None,
    guidance: Annotated[
        float | None,
        typer.Option(help=f"Classifier-free guidance scale, 6-9 works best (default {SPEC.guidance:g})"),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (default: derived from the text)")] = None,
    format: Annotated[
        str | None, typer.Option("--format", help=f"mp4, gif or webp (default {SPEC.format.value})")
    ] = None,
    style: StyleOption = None,
    mood: Annotated[str | None, typer.Option(help="Override the mood read from the text")] = None,
    model: Annotated[str | None, typer.Option(help="Wan weights: a local folder or a hub id")] = None,
    memory_plan: MemoryPlanOption = None,
    raw_prompt: RawPromptOption = False,
    nsfw_channel: NsfwOption = False,
    quality: Annotated[
        str,
        typer.Option(help="normal, or high: 40 steps and 16 frames at 480p, queued behind chat reactions"),
    ] = "normal",
    as_json: Annotated[bool, typer.Option("--json", help="Print the clip's metadata as JSON")] = False,
) -> None:
    """Make one reaction clip, from a message or from speech, and write it to a file."""
    with reported():
        message: str | Path
        if text is not None and audio is None:
            message = text
        elif audio is not None and text is None:
            message = audio
        else:
            raise UserInputError("give either a TEXT or --audio FILE, not both or neither")
        settings = Settings()
        if backend is not None:
            settings.engine.backend = backend_name(backend)
        if model is not None:
            settings.engine.wan.model = model
        if memory_plan is not None:
            settings.engine.wan.memory_plan = memory_plan
        options = _options(
            settings,
            style=style,
            mood=mood,
            raw_prompt=raw_prompt,
            seed=seed,
            size=size,
            frames=frames,
            fps=fps,
            steps=steps,
            guidance=guidance,
            format=format,
            quality=quality_name(quality),
        )
        _generate(settings, message, options, _origin(nsfw_channel), out, as_json)


def _options(
    settings: Settings, *, style: str | None, mood: str | None, size: str | None, **chosen: Any
) -> Options:
    """The requester's choices, validated before any model loads so bad input fails at once."""
    from reactclip.bot.request import Options
    from reactclip.engine.mood import Mood
    from reactclip.engine.prompting.builder import check_style
    from reactclip.engine.spec import SpecError, parse_size

    try:
        mood_value = Mood(mood) if mood else None
    except ValueError:
        raise SpecError("mood", f"{mood!r} is not one of {', '.join(m.value for m in Mood)}") from None
    options = Options(style=style, mood=mood_value, size=parse_size(size) if size else None, **chosen)
    GenerationSpec(prompt="validation", **options.spec_fields())
    check_style(style or settings.engine.prompting.style, settings.engine.prompting.templates)
    return options


def _generate(
    settings: Settings, message: str | Path, options: Options, origin: Origin, out: Path | None, as_json: bool
) -> None:
    """``message`` is the text, or the path of an audio file whose speech is the text."""
    from reactclip.bot.progress import ProgressReporter
    from reactclip.bot.request import Request

    service = _service(settings)
    request = Request(message, origin, options)

    progress = ProgressReporter(enabled=not as_json)

    async def run() -> tuple[str, Clip]:
        try:
            with progress:
                clip = await service.make(request, on_event=progress.update)
            return progress.heard or str(message), clip
        finally:
            await service.aclose()

    text, clip = asyncio.run(run())
    if progress.note:
        typer.echo(f"reactclip: {progress.note}", err=True)
    path = out or settings.engine.output_dir / f"{slug(text)}-{clip.spec.seed:08x}.{clip.format.value}"
    clip.write(path)
    heard = {} if isinstance(message, str) else {"heard": text}
    if as_json:
        noted = {"note": progress.note} if progress.note else {}
        typer.echo(json.dumps({"path": str(path), **heard, **clip.metadata(), **noted}, ensure_ascii=False))
        return
    if heard:
        typer.echo(f"heard: {text}")
    if clip.cache_hit:
        typer.echo(f"wrote {path} from the cache ({clip.width}x{clip.height}, {clip.frames} frames)")
        return
    t = clip.timings
    typer.echo(
        f"wrote {path} ({clip.width}x{clip.height}, {clip.frames} frames at {clip.fps:g} fps, "
        f"{clip.size_bytes / 1024:.0f} KiB) with {clip.backend} [{clip.variant}] in {t.total:.2f} s"
    )
    stages = ("text_encoding", "denoising", "decoding", "rendering", "encoding")
    spent = [f"{stage.replace('_', ' ')} {getattr(t, stage):.2f} s" for stage in stages if getattr(t, stage)]
    typer.echo(f"  {clip.spec.mood.value} ({clip.spec.intensity.value}), " + ", ".join(spent))
    for note in clip.encode_notes:
        typer.echo(f"  note: {note}")


@app.command()
def analyze(
    text: Annotated[str | None, typer.Argument(help="The message to analyse (omit with --jsonl)")] = None,
    jsonl: Annotated[
        bool, typer.Option("--jsonl", help="Read one text per line on stdin, write one JSON object per line")
    ] = False,
    nsfw_channel: NsfwOption = False,
    style: StyleOption = None,
    raw_prompt: RawPromptOption = False,
) -> None:
    """Moderation verdict, emotion and prompt for a message, without generating anything."""
    with reported():
        if jsonl == (text is not None):
            raise UserInputError("give either a TEXT or --jsonl (texts on stdin), not both or neither")
        settings = Settings()
        options = _options(settings, style=style, mood=None, raw_prompt=raw_prompt, size=None)
        analyzer = _service(settings).analyzer
        context = _origin(nsfw_channel).context
        if text is not None:
            [analysis] = analyzer.analyze_many([text], context, options)
            _print_analysis(analysis.to_dict())
            return
        for chunk in _chunks(sys.stdin, JSONL_CHUNK):
            results = _analyze_lines(analyzer, chunk, context, options)
            for line, result in zip(chunk, results, strict=True):
                typer.echo(json.dumps(result or _empty_line(line), ensure_ascii=False))


def _chunks(lines: Any, size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for line in lines:
        chunk.append(line.rstrip("\r\n"))
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _analyze_lines(
    analyzer: Analyzer, lines: list[str], context: RequestContext, options: Options
) -> list[dict[str, Any] | None]:
    """Analyses for the non-empty lines, None in place of empty ones (one output line per input)."""
    texts = [line for line in lines if line.strip()]
    results = iter(a.to_dict() for a in analyzer.analyze_many(texts, context, options))
    return [next(results) if line.strip() else None for line in lines]


def _empty_line(line: str) -> dict[str, Any]:
    """The row of an empty line: every key of an analysed line's, so readers see one shape."""
    return {
        "text": line,
        "emotion": None,
        "intensity": None,
        "emotion_confidence": None,
        "allowed": False,
        "category": "none",
        "confidence": None,
        "layer": None,
        "reason": "there is nothing to react to",
        "prompt": None,
        "negative_prompt": None,
        "style": None,
        "seed": None,
    }


def _print_analysis(result: dict[str, Any]) -> None:
    verdict = "allowed" if result["allowed"] else f"refused ({result['category']}, {result['layer']})"
    typer.echo(f"emotion:   {result['emotion']} ({result['intensity']}, {result['emotion_confidence']:.2f})")
    typer.echo(f"verdict:   {verdict}")
    if not result["allowed"]:
        typer.echo(f"reason:    {result['reason']}")
        return
    typer.echo(f"prompt:    {result['prompt']}")
    typer.echo(f"negative:  {result['negative_prompt']}")
    typer.echo(f"style:     {result['style']}, seed {result['seed']}")


@app.command()
def batch(
    file: Annotated[
        Path,
        typer.Argument(help="A text file (one message a line) or a CSV: text, style, frames, seed, count"),
    ],
    out: Annotated[
        Path, typer.Option("--out", help="Where the clips, manifest.json and contact_sheet.png go")
    ],
    backend: Annotated[
        str | None, typer.Option(help="auto, wan, tiny or sticker (default: settings)")
    ] = None,
) -> None:
    """Make drafts of many messages at batch priority (chat reactions always go first), for people
    to review (reactclip review DIR) before anything is published. Ctrl-C stops; run it again to
    resume."""
    with reported():
        from reactclip.bot.batch import batch_command

        settings = Settings()
        if backend is not None:
            engine = settings.engine.model_copy(update={"backend": backend_name(backend)})
            settings = settings.model_copy(update={"engine": engine})
        code = batch_command(settings, file, out)
    raise typer.Exit(code)


@app.command()
def transcribe(
    file: Annotated[Path, typer.Argument(help="An audio file: OGG/Opus, MP3, M4A, WAV or WebM")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the transcript as one JSON object")] = False,
) -> None:
    """Print the words heard in an audio file, with their timings and confidences (offline, Vosk)."""
    with reported():
        from reactclip.speech.listener import Listener

        transcript = Listener(Settings().speech).transcribe(file)
    if as_json:
        typer.echo(json.dumps(transcript.to_record(), ensure_ascii=False))
        return
    if not transcript.words:
        typer.echo(f"no words heard in {transcript.duration_s:.1f} s of audio")
        return
    typer.echo(transcript.text)
    typer.echo(
        f"  {len(transcript.words)} words in {transcript.duration_s:.1f} s, "
        f"mean confidence {transcript.confidence:.2f}"
    )
    for word in transcript.words:
        typer.echo(f"  {word.start:7.2f} {word.end:7.2f}  {word.confidence:.2f}  {word.text}")


app.command()(serving.worker)
app.command()(serving.run)
app.command()(serving.sync)
app.command(name="review")(review_cli.review)
app.command()(doctor.doctor)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
