"""A terminal progress bar fed by the engine's per-step progress events."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from reactclip.engine.executor import ProgressEvent, Queued, Step


class ProgressReporter:
    """One bar per stage (queue position, denoising steps or rendered frames), on stderr so stdout
    stays clean."""

    def __init__(self, enabled: bool = True) -> None:
        self._progress = Progress(
            TextColumn("{task.description:>10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            disable=not enabled,
            transient=True,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> ProgressReporter:
        self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()

    def update(self, event: ProgressEvent) -> None:
        if isinstance(event, Queued):
            self._bar("queued", event.position, max(event.position, 1))
        elif isinstance(event, Step):
            self._bar(event.stage, event.step, event.total)

    def _bar(self, stage: str, completed: int, total: int) -> None:
        task = self._tasks.get(stage)
        if task is None:
            task = self._tasks[stage] = self._progress.add_task(stage, total=total)
        self._progress.update(task, completed=completed, total=total)
