"""The reviewers' decisions, in SQLite beside the drafts (DIR/review.sqlite3), so that they outlive
the page and travel with the folder.

Every decision is a new row (who decided what, when, about which seed): the current decision of a
draft is its latest row, and the rows before it are the history. Remaking a draft adds a "pending"
row, since an approval was for the clip that is gone.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

DATABASE = "review.sqlite3"
DECISIONS = ("approved", "rejected", "pending")
SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    draft_id TEXT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('approved', 'rejected', 'pending')),
    reason TEXT,
    who TEXT NOT NULL,
    at TEXT NOT NULL,
    seed INTEGER
);
CREATE INDEX IF NOT EXISTS decisions_by_draft ON decisions (draft_id, id);
"""


@dataclass(frozen=True)
class Decision:
    """One reviewer's word on one draft: ``at`` is UTC in ISO 8601, ``seed`` the clip's seed then."""

    draft_id: str
    decision: str
    reason: str | None
    who: str
    at: str
    seed: int | None = None

    def to_dict(self) -> dict[str, str | int | None]:
        return {
            "decision": self.decision,
            "reason": self.reason,
            "who": self.who,
            "at": self.at,
            "seed": self.seed,
        }


class DecisionStore:
    """The decisions of one batch folder. A connection per call: calls are rare and tiny, and the
    page and an ``--export`` in another process may use the file at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with self._connect() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise RuntimeError(f"{path} was written by a newer reactclip (schema {version})")
            db.executescript(SCHEMA)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @classmethod
    def in_folder(cls, folder: Path) -> DecisionStore:
        return cls(folder / DATABASE)

    def record(
        self, draft_id: str, decision: str, who: str, reason: str | None = None, seed: int | None = None
    ) -> Decision:
        if decision not in DECISIONS:
            raise ValueError(f"decision {decision!r} is not one of {', '.join(DECISIONS)}")
        made = Decision(draft_id, decision, reason or None, who, _now(), seed)
        with self._connect() as db:
            db.execute(
                "INSERT INTO decisions (draft_id, decision, reason, who, at, seed) VALUES (?, ?, ?, ?, ?, ?)",
                (made.draft_id, made.decision, made.reason, made.who, made.at, made.seed),
            )
        return made

    def current(self) -> dict[str, Decision]:
        """Each decided draft's latest decision, by draft id."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT draft_id, decision, reason, who, at, seed FROM decisions"
                " WHERE id IN (SELECT MAX(id) FROM decisions GROUP BY draft_id)"
            ).fetchall()
        return {row[0]: Decision(*row) for row in rows}

    def history(self, draft_id: str) -> list[Decision]:
        """Every decision on the draft, oldest first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT draft_id, decision, reason, who, at, seed FROM decisions"
                " WHERE draft_id = ? ORDER BY id",
                (draft_id,),
            ).fetchall()
        return [Decision(*row) for row in rows]

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        try:
            with db:  # commits, or rolls back on an error
                yield db
        finally:
            db.close()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
