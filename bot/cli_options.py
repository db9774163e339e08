"""CLI options and parsers that several ``reactclip`` commands share (cli.py, serving.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, cast, get_args

import typer

from reactclip.bot.errors import UserInputError
from reactclip.engine.settings import BackendName, MemoryPlanSetting

if TYPE_CHECKING:
    from reactclip.bot.request import Quality

BACKENDS: tuple[BackendName, ...] = get_args(BackendName)

MetricsPortOption = Annotated[
    int | None,
    typer.Option(
        min=0, max=65535, help="Serve /metrics, /health and /ready here; 0 turns them off (default: settings)"
    ),
]


MemoryPlanOption = Annotated[
    MemoryPlanSetting | None,
    typer.Option(
        help="Where Wan's models live: auto (the fastest that fits), full, text-encoder-offload, "
        "model-offload or group-offload (default: settings)"
    ),
]


def quality_name(name: str) -> Quality:
    """``name`` as a quality ("normal" or "high"), or UserInputError naming them."""
    from reactclip.bot.request import Quality  # the CLI starts without the pipeline's imports

    for known in get_args(Quality):
        if name == known:
            return cast(Quality, known)
    raise UserInputError(f"quality {name!r} is not one of {', '.join(get_args(Quality))}")


def backend_name(name: str) -> BackendName:
    """``name`` as a backend the settings accept, or UserInputError naming them."""
    for known in BACKENDS:
        if name == known:
            return known
    raise UserInputError(f"backend {name!r} is not one of {', '.join(BACKENDS)}")
