"""Run one draft again, with a new seed or new text, through the same pipeline as ``reactclip batch``
(bot/batch.py's ``make_draft``: moderation before, the frame check after, the cache).

The attempt is made in a staging folder inside DIR. Only a clip that was made replaces the draft's
clip and manifest entry (the file moved into place in one step, so the page never plays half a
clip); a refused or failed attempt leaves the draft as it was and says why.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reactclip.bot.batch import Draft, make_draft
from reactclip.bot.errors import UserInputError
from reactclip.bot.request import MAX_TEXT_CHARS
from reactclip.bot.review.folder import BatchFolder
from reactclip.engine.spec import MAX_SEED

if TYPE_CHECKING:
    from reactclip.bot.service import ReactionService

ServiceFactory = Callable[[], "ReactionService"]
"""Builds the service on the first remake: loading the text models takes seconds, and a review that
remakes nothing should not wait for them."""


@dataclass(frozen=True)
class RemakeOutcome:
    """What became of one attempt: ``attempt`` is the draft as made; ``replaced`` whether it is
    now the draft (only a clip that was made replaces one)."""

    attempt: Draft
    replaced: bool

    @property
    def message(self) -> str:
        made = self.attempt
        if self.replaced:
            return f"remade with seed {made.seed}" + (" (from the cache)" if made.cache_hit else "")
        return f"not remade, the draft is unchanged: {made.status}: {made.reason}"


def new_seed(old: int) -> int:
    """A random seed other than ``old``."""
    seed = old
    while seed == old:
        seed = secrets.randbelow(MAX_SEED + 1)
    return seed


def checked_text(text: str) -> str:
    """An edited text as a batch line would accept it, or UserInputError saying what is wrong."""
    text = text.strip()
    if not text:
        raise UserInputError("the new text is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise UserInputError(f"the new text is {len(text)} characters; at most {MAX_TEXT_CHARS}")
    return text


class DraftRemaker:
    """Remakes drafts of one folder, one at a time: the manifest has one writer, and a second
    click on a draft being remade waits for the first instead of racing it."""

    def __init__(self, folder: BatchFolder, service_factory: ServiceFactory) -> None:
        self.folder = folder
        self._service_factory = service_factory
        self._service: ReactionService | None = None
        self._lock = asyncio.Lock()

    async def remake(
        self, draft_id: str, *, seed: int | None = None, text: str | None = None
    ) -> RemakeOutcome:
        """The draft again with ``seed`` (default: a new one) and ``text`` (default: its own)."""
        async with self._lock:
            old = self.folder.get(draft_id)
            if old is None:
                raise KeyError(draft_id)
            attempt = Draft(
                old.id,
                old.line,
                checked_text(text) if text is not None else old.text,
                seed if seed is not None else new_seed(old.seed),
                old.style,
                old.frames,
            )
            service = await self._service_ready()
            await asyncio.to_thread((self.folder.root / "clips").mkdir, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".remake-", dir=self.folder.root))
            try:
                await make_draft(service, attempt, staging)
                if attempt.status != "done" or attempt.clip is None:
                    return RemakeOutcome(attempt, replaced=False)
                (staging / attempt.clip).replace(self.folder.root / attempt.clip)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            self._drop_old_clip(old, attempt)
            self.folder.replace(attempt)
            return RemakeOutcome(attempt, replaced=True)

    def _drop_old_clip(self, old: Draft, new: Draft) -> None:
        """The old clip, where the new one has another name (another format): nothing points at it."""
        path = self.folder.clip_path(old)
        if path is not None and old.clip != new.clip:
            path.unlink(missing_ok=True)

    async def _service_ready(self) -> ReactionService:
        if self._service is None:
            self._service = await asyncio.to_thread(self._service_factory)
        return self._service

    async def aclose(self) -> None:
        if self._service is not None:
            await self._service.aclose()
            self._service = None
