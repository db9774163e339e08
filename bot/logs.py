"""How reactclip's processes log: plain lines for a terminal, or ``--log-format json`` (one JSON
object per line, python-json-logger) for a log pipeline. Either way each line about a request names
its id (engine/request_id.py), from the entry point through the queue to the worker and back.

What never reaches a log above debug: the bot token (nothing logs settings) and what users said (the
Request's repr and the log calls name lengths, hashes and ids, not text).
"""

from __future__ import annotations

import logging
import sys
from typing import Literal

from pythonjsonlogger.json import JsonFormatter

from reactclip.engine.request_id import REQUEST_ID

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "reactclip: %(request_tag)s%(message)s"
JSON_FIELDS = "{asctime}{levelname}{name}{message}{request_id}"


class RequestIdFilter(logging.Filter):
    """Adds the current request's id to every record: ``request_id`` (None outside a request) for
    JSON, ``request_tag`` ("[id] " or "") for text lines."""

    def __init__(self, log_format: LogFormat) -> None:
        super().__init__()
        self._text = log_format == "text"

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = REQUEST_ID.get()
        if self._text:
            record.request_tag = f"[{request_id}] " if request_id else ""
        else:
            record.request_id = request_id
        return True


def configure_logging(
    log_format: LogFormat = "text", *, verbose: bool = False, replace: bool = False
) -> None:
    """One handler on stderr for the whole process (stdout stays for command output). Like
    ``logging.basicConfig``, it leaves a root logger that already has handlers (a host program's,
    pytest's) alone unless ``replace``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter(log_format))
    if log_format == "json":
        handler.setFormatter(
            JsonFormatter(
                JSON_FIELDS,
                style="{",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(handlers=[handler], level=logging.WARNING, force=replace)
    logging.getLogger("reactclip").setLevel(logging.DEBUG if verbose else logging.INFO)
