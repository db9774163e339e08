"""The approved drafts, taken out of a batch folder: their clips and a manifest of their entries with
the decision that approved each, as a folder or a zip (same layout) for whoever publishes them.

Only a draft whose current decision is "approved" and whose clip is there goes out; nothing else in
DIR (rejected clips, the decisions database, the contact sheet) does.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from reactclip.bot.batch import MANIFEST, Draft
from reactclip.bot.errors import UserInputError
from reactclip.bot.review.folder import CLIPS, BatchFolder
from reactclip.bot.review.store import Decision


@dataclass(frozen=True)
class ApprovedClip:
    """One draft that goes out, its clip on disk, and the decision that let it."""

    draft: Draft
    path: Path
    decision: Decision

    @property
    def name(self) -> str:
        """The clip's path inside the export (as in the batch folder: clips/<id>.<format>)."""
        return f"{CLIPS}/{self.path.name}"

    def entry(self) -> dict[str, Any]:
        return asdict(self.draft) | {"clip": self.name, "decision": self.decision.to_dict()}


def approved_clips(folder: BatchFolder, decisions: dict[str, Decision]) -> list[ApprovedClip]:
    """The approved drafts with a clip, in manifest order."""
    approved = []
    for draft in folder.drafts:
        decision = decisions.get(draft.id)
        path = folder.clip_path(draft)
        if decision is not None and decision.decision == "approved" and path is not None:
            approved.append(ApprovedClip(draft, path, decision))
    return approved


def export_manifest(folder: BatchFolder, clips: list[ApprovedClip]) -> str:
    document = {
        "source": folder.source,
        "batch": str(folder.root),
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "drafts": [clip.entry() for clip in clips],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def export_folder(folder: BatchFolder, clips: list[ApprovedClip], out: Path) -> Path:
    """``out``/clips/... and ``out``/manifest.json. ``out`` must not exist yet (or be an empty
    folder): an export never mixes with, or overwrites, anything else."""
    _check_free(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        (staging / CLIPS).mkdir()
        for clip in clips:
            shutil.copyfile(clip.path, staging / clip.name)
        (staging / MANIFEST).write_text(export_manifest(folder, clips), encoding="utf-8")
        if out.is_dir():
            out.rmdir()  # empty, checked above
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def export_zip(folder: BatchFolder, clips: list[ApprovedClip], out: Path | IO[bytes]) -> None:
    """The same layout in one zip, written to ``out``: a path that must not exist yet, or an open
    binary file (the page's download), left open."""
    if not isinstance(out, Path):
        _write_zip(folder, clips, out)
        return
    _check_free(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    try:
        with partial.open("wb") as file:
            _write_zip(folder, clips, file)
        partial.rename(out)
    finally:
        partial.unlink(missing_ok=True)


def _write_zip(folder: BatchFolder, clips: list[ApprovedClip], file: IO[bytes]) -> None:
    with zipfile.ZipFile(file, "w") as archive:
        for clip in clips:  # clips are compressed already: stored as they are
            archive.write(clip.path, clip.name, compress_type=zipfile.ZIP_STORED)
        archive.writestr(MANIFEST, export_manifest(folder, clips), compress_type=zipfile.ZIP_DEFLATED)


def _check_free(out: Path) -> None:
    if out.is_dir() and not any(out.iterdir()):
        return
    if out.exists():
        raise UserInputError(f"{out} already exists; export into a new path")
