"""The id of the request being worked on, in a context variable, so that every log line about it
(the bot's service, the executor, a worker's job) names it without passing it through every call.

Whoever starts work for a request sets it (the ReactionService for its task, a worker for its job
from the job's payload); a ClipHandle made under it takes it as its id, so the executor's own log
lines and the job it sends to a worker carry it too. The log formatter reads it (bot/logs.py).
"""

from __future__ import annotations

import secrets
from contextvars import ContextVar

REQUEST_ID: ContextVar[str | None] = ContextVar("reactclip_request_id", default=None)


def new_request_id() -> str:
    """16 hex digits: short enough for a Discord button's custom_id, random enough never to repeat."""
    return secrets.token_hex(8)
