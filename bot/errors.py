"""The one place where reactclip's typed errors become a short, polite line for a person."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from reactclip.bot.refusals import Refused
from reactclip.engine.backends.base import BackendError
from reactclip.engine.encode import EncodeError
from reactclip.engine.executor import ExecutorError
from reactclip.engine.spec import SpecError
from reactclip.speech.errors import AudioError, NotUnderstood, SpeechError

log = logging.getLogger(__name__)


class UserInputError(ValueError):
    """The request itself is wrong (not the service)."""


class ConfigurationError(RuntimeError):
    """The operator's setup is incomplete (a missing token, a missing model); the message says how
    to fix it and holds no secret."""


def describe(exc: BaseException) -> str:
    """One line for the person who asked; never a traceback, never a secret."""
    if isinstance(exc, Refused):
        return str(exc)
    if isinstance(exc, SpecError | UserInputError):
        return f"that request can't be made: {exc}"
    if isinstance(exc, ConfigurationError | SpeechError):
        return str(exc)
    if isinstance(exc, ExecutorError) and isinstance(exc.__cause__, BackendError | EncodeError):
        return describe(exc.__cause__)
    if isinstance(exc, BackendError | ExecutorError):
        return str(exc)
    if isinstance(exc, EncodeError):
        return f"the clip could not be encoded: {exc}"
    if isinstance(exc, ConnectionError | OSError):
        return f"could not reach a service reactclip needs ({type(exc).__name__}); check the network"
    log.debug("unexpected error", exc_info=exc)
    return f"something went wrong on our side ({type(exc).__name__}); please try again"


def exit_code(exc: BaseException) -> int:
    """2 for a bad request (unusable or unintelligible audio included), 3 for a refusal by
    moderation, 1 for a failure of the service."""
    if isinstance(exc, Refused):
        return 3
    return 2 if isinstance(exc, SpecError | UserInputError | AudioError | NotUnderstood) else 1


@contextmanager
def reported() -> Iterator[None]:
    """A CLI command's body: Ctrl-C exits with 130, any error becomes its one line on stderr and
    its exit code (``exit_code``), never a traceback."""
    try:
        yield
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        typer.echo(f"reactclip: {describe(exc)}", err=True)
        raise typer.Exit(exit_code(exc)) from None
