"""A terminal progress bar fed by the engine's per-step progress events."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from reactclip.engine.backends.base import StepProgress


class ProgressReporter:
    """One bar per stage (denoising steps or rendered frames), on stderr so stdout stays clean."""

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

    def update(self, event: StepProgress) -> None:
        task = self._tasks.get(event.stage)
        if task is None:
            task = self._tasks[event.stage] = self._progress.add_task(event.stage, total=event.total)
        self._progress.update(task, completed=event.step, total=event.total)
