"""``reactclip batch FILE --out DIR``: a day's drafts for people to review before anything is
published (the third use of the service this design comes from, beside chat reactions and previews).

FILE is plain text (one message a line) or a CSV with a ``text`` column and optional ``style``,
``frames``, ``seed`` and ``count``. Every draft is a Request at batch priority through the one
pipeline (ReactionService): moderation before, the frame check after, the cache, and chat reactions
always ahead of it in the executor's queue. A line that cannot be used, or a draft refused or failed,
gets its own line in the report and the manifest; the other lines go on.

DIR gets ``clips/<id>.<format>``, ``manifest.json`` (per draft: text, spec, seed, variant, backend,
timings, verdicts, status) and ``contact_sheet.png`` (a frame of every clip, to see them at a glance).
Seeds are fixed by the text (or the line's ``seed``), so a second run of the same file makes the same
specs: after Ctrl-C, what was finished comes back from the clip cache in milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from reactclip.bot.contact_sheet import contact_sheet
from reactclip.bot.errors import UserInputError, describe
from reactclip.bot.events import Analysed, Failed, Finished, Refusal
from reactclip.bot.refusals import FrameRefused, TextRefused
from reactclip.bot.request import MAX_TEXT_CHARS, Options, Origin, Request, hash_user
from reactclip.engine.executor import Priority
from reactclip.engine.spec import MAX_FRAMES, MAX_SEED, MIN_FRAMES, seed_for

if TYPE_CHECKING:
    from reactclip.bot.service import ReactionService
    from reactclip.bot.settings import Settings
    from reactclip.moderation.verdict import TextVerdict

MAX_COUNT = 10
"""Drafts one line may ask for."""
MANIFEST = "manifest.json"
CONTACT_SHEET = "contact_sheet.png"
CSV_COLUMNS = ("text", "style", "frames", "seed", "count")
BATCH_ORIGIN = Origin("batch", hash_user("reactclip-batch"))
"""Drafts are judged as in a normal (not NSFW) channel: they are meant to be published."""


@dataclass(frozen=True)
class BatchLine:
    """One usable line of the input: what to react to and how many drafts of it."""

    number: int
    text: str
    style: str | None = None
    frames: int | None = None
    seed: int | None = None
    count: int = 1


@dataclass(frozen=True)
class LineProblem:
    """A line of the input that was not used, and why (said so a person can fix it)."""

    number: int
    message: str

    def __str__(self) -> str:
        return f"line {self.number}: {self.message}"


@dataclass
class Draft:
    """One clip to make, and what became of it."""

    id: str
    line: int
    text: str
    seed: int
    style: str | None = None
    frames: int | None = None
    status: str = "queued"
    """queued, done, refused or failed."""
    reason: str | None = None
    clip: str | None = None
    """The clip's path relative to DIR."""
    spec: dict[str, Any] | None = None
    backend: str | None = None
    variant: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    cache_hit: bool = False
    verdicts: dict[str, Any] = field(default_factory=dict)

    def request(self) -> Request:
        options = Options(style=self.style, frames=self.frames, seed=self.seed)
        return Request(self.text, BATCH_ORIGIN, options, priority=Priority.BATCH)


# Reading the input ------------------------------------------------------------------------------


def read_batch(path: Path) -> tuple[list[BatchLine], list[LineProblem]]:
    """The usable lines of ``path`` and a problem for each line that is not. Raises UserInputError
    when the file as a whole cannot be used (missing, not text, empty, a CSV without ``text``)."""
    try:
        content = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserInputError(f"{path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserInputError(f"{path} cannot be read as UTF-8 text ({type(exc).__name__})") from None
    rows = _csv_rows(content) if path.suffix.lower() == ".csv" else _text_rows(content)
    lines, problems = [], []
    for number, fields in rows:
        try:
            lines.append(_line(number, fields))
        except ValueError as exc:
            problems.append(LineProblem(number, str(exc)))
    if not lines and not problems:
        raise UserInputError(f"{path} has no lines to react to")
    return lines, problems


def _text_rows(content: str) -> Iterator[tuple[int, dict[str, str | None]]]:
    for number, text in enumerate(content.splitlines(), start=1):
        if text.strip():
            yield number, {"text": text}


def _csv_rows(content: str) -> Iterator[tuple[int, dict[str, str | None]]]:
    reader = csv.DictReader(content.splitlines())
    columns = [name.strip().lower() for name in reader.fieldnames or []]
    if "text" not in columns:
        raise UserInputError(f"a CSV needs a 'text' column; it has {', '.join(columns) or 'none'}")
    unknown = [name for name in columns if name not in CSV_COLUMNS]
    if unknown:
        raise UserInputError(f"unknown CSV columns {', '.join(unknown)}; use {', '.join(CSV_COLUMNS)}")
    reader.fieldnames = columns
    for row in reader:
        extra = row.pop(None, None)  # csv keys surplus fields by None
        if extra:
            fields = len(columns) + len(extra)
            yield reader.line_num, {"error": f"{fields} fields for {len(columns)} columns"}
        else:
            yield reader.line_num, dict(row)


def _line(number: int, fields: dict[str, str | None]) -> BatchLine:
    if fields.get("error"):
        raise ValueError(f"malformed row: {fields['error']}")
    text = (fields.get("text") or "").strip()
    if not text:
        raise ValueError("the text is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(f"the text is {len(text)} characters; at most {MAX_TEXT_CHARS}")
    return BatchLine(
        number,
        text,
        style=(fields.get("style") or "").strip() or None,
        frames=_number(fields.get("frames"), "frames", MIN_FRAMES, MAX_FRAMES),
        seed=_number(fields.get("seed"), "seed", 0, MAX_SEED),
        count=_number(fields.get("count"), "count", 1, MAX_COUNT) or 1,
    )


def _number(raw: str | None, name: str, low: int, high: int) -> int | None:
    if raw is None or not raw.strip():
        return None
    try:
        value = int(raw.strip())
    except ValueError:
        raise ValueError(f"{name} {raw.strip()!r} is not a whole number") from None
    if not low <= value <= high:
        raise ValueError(f"{name} {value} is outside {low}-{high}")
    return value


def drafts_of(lines: Sequence[BatchLine]) -> list[Draft]:
    """Each line's drafts, with seeds fixed by the line (so a second run repeats the same specs)."""
    drafts = []
    for line in lines:
        for k in range(line.count):
            seed = (line.seed + k) % (MAX_SEED + 1) if line.seed is not None else seed_for(f"{line.text}#{k}")
            drafts.append(
                Draft(f"{line.number:04d}-{k + 1}", line.number, line.text, seed, line.style, line.frames)
            )
    return drafts


# Running ----------------------------------------------------------------------------------------


async def make_draft(service: ReactionService, draft: Draft, out: Path) -> Draft:
    """One draft through the pipeline; its clip written under ``out``. Never raises for the
    draft's own failure: that is its status and reason."""
    async for event in service.handle(draft.request()):
        if isinstance(event, Analysed):
            draft.verdicts["text"] = _text_verdict(event.analysis.verdict)
            draft.spec = event.analysis.spec.to_dict() if event.analysis.spec is not None else None
        elif isinstance(event, Finished):
            clip = event.clip
            path = out / "clips" / f"{draft.id}.{clip.format.value}"
            await asyncio.to_thread(clip.write, path)
            described = clip.metadata()
            draft.status, draft.clip = "done", str(path.relative_to(out))
            draft.spec, draft.backend, draft.variant = described["spec"], clip.backend, clip.variant
            draft.timings, draft.cache_hit = described["timings"], clip.cache_hit
            if event.frames is not None:
                draft.verdicts["frames"] = {"allowed": True, "frames_checked": event.frames.frames_checked}
        elif isinstance(event, Refusal):
            draft.status, draft.reason = "refused", f"{event.error.category}: {event.error}"
            if isinstance(event.error, TextRefused):
                draft.verdicts["text"] = _text_verdict(event.error.verdict)
            elif isinstance(event.error, FrameRefused):
                draft.verdicts["frames"] = {"allowed": False, "category": event.error.category}
        elif isinstance(event, Failed):
            draft.status, draft.reason = "failed", describe(event.error)
    return draft


def _text_verdict(verdict: TextVerdict) -> dict[str, Any]:
    return {
        "allowed": verdict.allowed,
        "category": verdict.category.value,
        "layer": verdict.layer,
        "confidence": round(verdict.confidence, 3),
    }


def write_manifest(out: Path, source: Path, drafts: Sequence[Draft], problems: Sequence[LineProblem]) -> Path:
    document = {
        "source": str(source),
        "drafts": [asdict(draft) for draft in drafts],
        "skipped_lines": [{"line": p.number, "problem": p.message} for p in problems],
    }
    path = out / MANIFEST
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)  # a reader (the review page) never sees half a manifest
    return path


async def run_batch(
    service: ReactionService,
    drafts: Sequence[Draft],
    out: Path,
    on_done: Callable[[Draft], None] | None = None,
    concurrency: int = 4,
) -> None:
    """Make every draft, ``concurrency`` at a time (the executor batches compatible ones and puts
    chat reactions first). Cancelled (Ctrl-C), the drafts not finished stay "queued"."""
    limit = asyncio.Semaphore(concurrency)

    async def one(draft: Draft) -> None:
        async with limit:
            await make_draft(service, draft, out)
        if on_done is not None:
            on_done(draft)

    await asyncio.gather(*(one(draft) for draft in drafts))


# The command ------------------------------------------------------------------------------------


def batch_command(settings: Settings, source: Path, out: Path) -> int:
    """``reactclip batch``: read, make, write the manifest and the contact sheet, report; the exit
    code (0: every usable line made or refused by moderation, 1: some draft failed, 130: stopped)."""
    from reactclip.bot.service import ReactionService

    lines, problems = read_batch(source)
    for problem in problems:
        typer.echo(f"reactclip: skipped {problem}", err=True)
    drafts = drafts_of(lines)
    (out / "clips").mkdir(parents=True, exist_ok=True)
    service = ReactionService.from_settings(settings)
    stopped = False
    with _progress(len(drafts)) as update:

        async def make_all() -> None:
            try:
                await run_batch(service, drafts, out, on_done=lambda _: update(drafts))
            except asyncio.CancelledError:
                await service.aclose(drain=False)  # Ctrl-C: stop now; a second run resumes
                raise
            await service.aclose()

        try:
            asyncio.run(make_all())
        except KeyboardInterrupt:
            stopped = True
    write_manifest(out, source, drafts, problems)
    made = [(draft.id, out / draft.clip) for draft in drafts if draft.status == "done" and draft.clip]
    if made:
        contact_sheet(made, out / CONTACT_SHEET)
    return _report(drafts, out, stopped)


def _report(drafts: Sequence[Draft], out: Path, stopped: bool) -> int:
    for draft in drafts:
        if draft.status in ("refused", "failed"):
            typer.echo(
                f"reactclip: draft {draft.id} (line {draft.line}) {draft.status}: {draft.reason}", err=True
            )
    counts = {
        status: sum(d.status == status for d in drafts) for status in ("done", "refused", "failed", "queued")
    }
    summary = f"{counts['done']} drafts in {out}, {counts['refused']} refused, {counts['failed']} failed"
    if stopped:
        typer.echo(f"{summary}; stopped with {counts['queued']} to go: run the same command to resume")
        return 130
    typer.echo(f"{summary}; review them with: reactclip review {out}")
    return 1 if counts["failed"] else 0


@contextlib.contextmanager
def _progress(total: int) -> Iterator[Callable[[Sequence[Draft]], None]]:
    """A progress bar on stderr: done, queued, refused and failed, and the time left."""
    columns = (
        TextColumn("drafts"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(
            "{task.fields[queued]} queued · {task.fields[refused]} refused · {task.fields[failed]} failed"
        ),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task("drafts", total=total, queued=total, refused=0, failed=0)

        def update(drafts: Sequence[Draft]) -> None:
            statuses = [draft.status for draft in drafts]
            bar.update(
                task,
                completed=len(statuses) - statuses.count("queued"),
                queued=statuses.count("queued"),
                refused=statuses.count("refused"),
                failed=statuses.count("failed"),
            )

        yield update
