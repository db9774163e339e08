"""Skip or fail over a missing tool or service, the same way in every test module."""

from __future__ import annotations

import os

import pytest

SPEECH_FLAG = "REACTCLIP_REQUIRE_SPEECH_TOOLS"
"""Set to 1 (CI does) to fail, not skip, where espeak-ng, libopus or the speech models are missing."""


def require(problem: str | None, flag: str, fix: str) -> None:
    """Skip the test over a missing tool or service (``problem``), or fail it where ``flag`` is set
    to 1 (CI sets it: there a missing tool is a broken setup, not a reason to skip)."""
    if problem is None:
        return
    if os.environ.get(flag) == "1":
        pytest.fail(f"{flag}=1 but {problem}")
    pytest.skip(f"{problem}; {fix} (or set {flag}=1 to fail instead)")
