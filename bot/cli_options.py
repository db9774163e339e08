"""CLI options and parsers that several ``reactclip`` commands share (cli.py, serving.py)."""

from __future__ import annotations

from typing import Annotated, get_args

import typer

from reactclip.bot.errors import UserInputError
from reactclip.engine.settings import BackendName

BACKENDS: tuple[BackendName, ...] = get_args(BackendName)

MetricsPortOption = Annotated[
    int | None,
    typer.Option(
        min=0, max=65535, help="Serve /metrics, /health and /ready here; 0 turns them off (default: settings)"
    ),
]


def backend_name(name: str) -> BackendName:
    """``name`` as a backend the settings accept, or UserInputError naming them."""
    for known in BACKENDS:
        if name == known:
            return known
    raise UserInputError(f"backend {name!r} is not one of {', '.join(BACKENDS)}")
