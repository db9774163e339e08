"""Errors at the Discord edge become one short, polite line; reactclip's own errors go through
``reactclip.bot.errors.describe``. Never a traceback in chat."""

from __future__ import annotations

import logging

from discord import app_commands

from reactclip.bot.discord.guild_settings import GuildSettingError
from reactclip.bot.discord.limits import LimitReached
from reactclip.bot.errors import describe
from reactclip.bot.refusals import Refused
from reactclip.bot.request import hash_user
from reactclip.engine.executor import Busy
from reactclip.engine.spec import SpecError
from reactclip.speech.errors import AudioError, NotUnderstood

log = logging.getLogger(__name__)

NOT_ENABLED_HERE = "reactclip is not enabled in this channel"
TOO_LARGE = "the clip came out too large to upload here; please try fewer frames"
NOTHING_TO_REACT_TO = "there is no text to react to"


class NotAllowed(Exception):
    """The person may not do this here; ``str(exc)`` says why."""


def unwrap(exc: BaseException) -> BaseException:
    """The error a command raised, out of discord.py's wrapper."""
    while isinstance(exc, app_commands.CommandInvokeError | app_commands.TransformerError) and (
        exc.__cause__ is not None or getattr(exc, "original", None) is not None
    ):
        exc = getattr(exc, "original", None) or exc.__cause__  # type: ignore[assignment]
    return exc


def describe_discord(exc: BaseException) -> str:
    """The line for the person who asked."""
    exc = unwrap(exc)
    if isinstance(exc, LimitReached | NotAllowed | GuildSettingError):
        return str(exc)
    if isinstance(exc, app_commands.MissingPermissions):
        return "you need the Manage Server permission for that"
    if isinstance(exc, app_commands.NoPrivateMessage):
        return "that works in a server, not in DMs"
    if isinstance(exc, app_commands.CommandOnCooldown):
        return f"slow down a little: you can ask again in {max(1, round(exc.retry_after))} s"
    if isinstance(exc, app_commands.CheckFailure):
        return "you can't use that here"
    return describe(exc)


EXPECTED = (
    LimitReached,
    NotAllowed,
    GuildSettingError,
    Busy,
    NotUnderstood,
    AudioError,
    SpecError,
    app_commands.CheckFailure,
)
"""Outcomes the bot expects (a limit, a switch, a full queue, speech nobody could make out, an option
it does not offer): logged at info without a traceback. Anything else is a real failure and keeps
its traceback."""


def log_outcome(error: BaseException, guild_id: int | None, user_id: int) -> None:
    """One log line for a request that did not end in a clip; the user id only hashed."""
    exc = unwrap(error)
    where = f"guild={guild_id} user={hash_user(user_id)}"
    if isinstance(exc, Refused):
        log.info("refused (%s) %s", exc.category, where)
    elif isinstance(exc, EXPECTED):
        log.info("turned down %s: %s: %s", where, type(exc).__name__, exc)
    else:
        log.warning("request failed %s", where, exc_info=exc)
