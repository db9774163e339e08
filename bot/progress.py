"""A terminal progress bar fed by a request's events (the engine's per-step progress among them)."""

from __future__ import annotations

from types import TracebackType

from rich import progress as bars
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TextColumn, TimeElapsedColumn

from reactclip.bot.events import Event, Finished, Heard, Progress, Queued, Step


class ProgressReporter:
    """One bar per stage (queue position, denoising steps or rendered frames), on stderr so stdout
    stays clean."""

    def __init__(self, enabled: bool = True) -> None:
        self._progress = bars.Progress(
            TextColumn("{task.description:>10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            disable=not enabled,
            transient=True,
        )
        self._tasks: dict[str, TaskID] = {}
        self.heard: str | None = None
        """The words of an audio request, once heard."""
        self.note: str | None = None
        """What the finished clip's note says (a high-quality request made as a normal clip)."""

    def __enter__(self) -> ProgressReporter:
        self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()

    def update(self, event: Event) -> None:
        if isinstance(event, Heard):
            self.heard = event.text
        if isinstance(event, Finished):
            self.note = event.note
        if not isinstance(event, Progress):
            return
        progress = event.event
        if isinstance(progress, Queued):
            self._bar("queued", progress.position, max(progress.position, 1))
        elif isinstance(progress, Step):
            self._bar(progress.stage, progress.step, progress.total)

    def _bar(self, stage: str, completed: int, total: int) -> None:
        task = self._tasks.get(stage)
        if task is None:
            task = self._tasks[stage] = self._progress.add_task(stage, total=total)
        self._progress.update(task, completed=completed, total=total)
