"""A batch's output folder as the review page sees it: the manifest's drafts by id, and each draft's
clip, resolved only from the manifest and only inside DIR/clips.

No path ever comes from a request: the page names a draft by its id, and the id is looked up here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from pathlib import Path
from typing import Any

from reactclip.bot.batch import MANIFEST, Draft, LineProblem, write_manifest
from reactclip.bot.errors import UserInputError

CLIPS = "clips"
CONTENT_TYPES = {".mp4": "video/mp4", ".gif": "image/gif", ".webp": "image/webp"}
"""The formats a clip may have, and how each is served."""
DRAFT_FIELDS = frozenset(field.name for field in dataclasses.fields(Draft))


class BatchFolder:
    """DIR of ``reactclip batch --out DIR``: its drafts in manifest order, replaceable one at a time."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._stamp = 0
        self._load()

    def _load(self) -> None:
        """Read the manifest; UserInputError (and nothing changed) where it is not a batch's."""
        manifest = self.root / MANIFEST
        try:
            stamp = manifest.stat().st_mtime_ns
            document = json.loads(manifest.read_text(encoding="utf-8"))
        except FileNotFoundError:
            hint = f"make drafts with: reactclip batch FILE --out {self.root}"
            raise UserInputError(f"{manifest} does not exist; {hint}") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise UserInputError(f"{manifest} cannot be read as JSON ({type(exc).__name__})") from None
        if not isinstance(document, dict) or not isinstance(document.get("drafts"), list):
            raise UserInputError(f"{manifest} has no list of drafts; is it a reactclip batch manifest?")
        drafts = {draft.id: draft for draft in map(_draft_of, document["drafts"])}
        self.source = str(document.get("source", ""))
        self._skipped: list[dict[str, Any]] = list(document.get("skipped_lines") or [])
        self._drafts, self._stamp = drafts, stamp

    def _fresh(self) -> None:
        """Read the manifest again where another process rewrote it (``reactclip batch`` run again on
        DIR while the page is open): a remake must not write an old manifest back over a new one.
        A manifest that cannot be read now keeps the last one read."""
        try:
            changed = (self.root / MANIFEST).stat().st_mtime_ns != self._stamp
        except OSError:
            return
        if changed:
            with contextlib.suppress(UserInputError):
                self._load()

    @property
    def drafts(self) -> list[Draft]:
        self._fresh()
        return list(self._drafts.values())

    def get(self, draft_id: str) -> Draft | None:
        self._fresh()
        return self._drafts.get(draft_id)

    def clip_path(self, draft: Draft) -> Path | None:
        """The draft's clip file, or None when it has none, the file is missing, or the manifest's
        path leads anywhere but a file of a known format directly in DIR/clips (a hand-edited
        manifest must not turn the page into a file server)."""
        if draft.status != "done" or not draft.clip:
            return None
        clips = (self.root / CLIPS).resolve()
        path = (self.root / draft.clip).resolve()
        if path.parent != clips or path.suffix not in CONTENT_TYPES or not path.is_file():
            return None
        return path

    def replace(self, draft: Draft) -> None:
        """Put ``draft`` in place of the draft with its id and rewrite the manifest (atomically)."""
        self._fresh()
        if draft.id not in self._drafts:
            raise KeyError(draft.id)
        self._drafts[draft.id] = draft
        problems = [LineProblem(int(p.get("line", 0)), str(p.get("problem", ""))) for p in self._skipped]
        write_manifest(self.root, Path(self.source), list(self._drafts.values()), problems)
        self._stamp = (self.root / MANIFEST).stat().st_mtime_ns


def content_type(path: Path) -> str:
    return CONTENT_TYPES[path.suffix]


def _draft_of(entry: Any) -> Draft:
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
        raise UserInputError("a draft in the manifest has no id; is it a reactclip batch manifest?")
    try:
        return Draft(**{name: value for name, value in entry.items() if name in DRAFT_FIELDS})
    except TypeError:  # a field Draft needs is missing
        raise UserInputError(f"draft {entry['id']} in the manifest lacks its line, text or seed") from None
