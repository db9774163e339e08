"""Per-guild settings, clip requests (for the buttons) and feedback votes, in one SQLite file.

Every setting and its default is declared once, in ``GuildSettings`` (guild_settings.py); a guild's
row holds only what it changed, so a new setting needs no migration. The schema itself changes only through
``MIGRATIONS``, applied in order, each once, tracked in ``schema_version``.

The store is synchronous on purpose: every call touches a handful of rows in a local file in WAL
mode (well under a millisecond), so it runs on the event loop rather than paying a thread hop. A
slow disk would be the reason to move the calls into ``asyncio.to_thread``.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from reactclip.bot.discord.guild_settings import DEFAULTS, GuildSettingError, GuildSettings

Vote = Literal[1, -1]

MIGRATIONS: list[str] = [
    # 1: settings (only what a guild changed) and feedback votes.
    """
    CREATE TABLE guild_settings (
        guild_id INTEGER NOT NULL,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (guild_id, name)
    );
    CREATE TABLE feedback (
        message_id INTEGER NOT NULL,
        user_hash TEXT NOT NULL,
        vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
        created REAL NOT NULL,
        PRIMARY KEY (message_id, user_hash)
    );
    """,
    # 2: the requests behind posted clips, so their buttons work after a restart.
    """
    CREATE TABLE clip_requests (
        request_id TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL,
        guild_id INTEGER,
        text TEXT NOT NULL,
        style TEXT,
        frames INTEGER,
        created REAL NOT NULL
    );
    CREATE INDEX clip_requests_created ON clip_requests (created);
    """,
    # 3: the variant that made a posted clip, so its thumbs count for that A/B arm.
    "ALTER TABLE clip_requests ADD COLUMN variant TEXT",
]
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True)
class PostedClip:
    """What a posted clip was made from; its buttons carry only ``request_id``."""

    request_id: str
    user_id: int
    guild_id: int | None
    text: str
    style: str | None = None
    frames: int | None = None
    variant: str | None = None


class GuildStore:
    """Guild settings, clip requests and feedback. Safe to share between tasks of one event loop."""

    def __init__(
        self,
        path: Path | str,
        *,
        request_ttl_s: float = 7 * 24 * 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = str(path) if str(path) == ":memory:" else Path(path).expanduser()
        if isinstance(self.path, Path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.request_ttl_s = request_ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self.applied = migrate(self._db)
        """The migrations this open applied (their 1-based versions)."""

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # Settings -----------------------------------------------------------------------------------

    def get(self, guild_id: int) -> GuildSettings:
        with self._lock:
            rows = self._db.execute(
                "SELECT name, value FROM guild_settings WHERE guild_id = ?", (guild_id,)
            ).fetchall()
        changed: dict[str, Any] = {}
        for name, raw in rows:
            if name not in GuildSettings.model_fields:
                continue  # a setting a newer version wrote; ignore rather than fail
            try:
                changed[name] = GuildSettings.check(name, json.loads(raw))
            except (GuildSettingError, ValueError):
                continue  # an edited or corrupt row falls back to the default, never looser
        return DEFAULTS.model_copy(update=changed)

    def settings_for(self, guild_id: int | None) -> GuildSettings:
        """A guild's settings; the defaults outside a guild (a DM)."""
        return DEFAULTS if guild_id is None else self.get(guild_id)

    def set(self, guild_id: int, **changes: Any) -> GuildSettings:
        """Change some settings (checked first, all or none); a value equal to the default is
        dropped from the row so later default changes reach this guild."""
        checked = {name: GuildSettings.check(name, value) for name, value in changes.items()}
        with self._tx() as db:
            for name, value in checked.items():
                if value == getattr(DEFAULTS, name):
                    db.execute("DELETE FROM guild_settings WHERE guild_id = ? AND name = ?", (guild_id, name))
                else:
                    db.execute(
                        "INSERT INTO guild_settings (guild_id, name, value) VALUES (?, ?, ?) "
                        "ON CONFLICT (guild_id, name) DO UPDATE SET value = excluded.value",
                        (guild_id, name, json.dumps(list(value) if isinstance(value, tuple) else value)),
                    )
        return self.get(guild_id)

    def reset(self, guild_id: int) -> GuildSettings:
        with self._tx() as db:
            db.execute("DELETE FROM guild_settings WHERE guild_id = ?", (guild_id,))
        return DEFAULTS

    # Clip requests ------------------------------------------------------------------------------

    def save_request(self, request: PostedClip) -> None:
        now = self._clock()
        with self._tx() as db:
            db.execute("DELETE FROM clip_requests WHERE created < ?", (now - self.request_ttl_s,))
            db.execute(
                "INSERT OR REPLACE INTO clip_requests (request_id, user_id, guild_id, text, style, frames, "
                "created, variant) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    request.request_id,
                    request.user_id,
                    request.guild_id,
                    request.text,
                    request.style,
                    request.frames,
                    now,
                    request.variant,
                ),
            )

    def load_request(self, request_id: str) -> PostedClip | None:
        """The request, or None when unknown or older than ``request_ttl_s``."""
        with self._lock:
            row = self._db.execute(
                "SELECT request_id, user_id, guild_id, text, style, frames, variant FROM clip_requests "
                "WHERE request_id = ? AND created >= ?",
                (request_id, self._clock() - self.request_ttl_s),
            ).fetchone()
        return PostedClip(*row) if row else None

    # Feedback -----------------------------------------------------------------------------------

    def record_feedback(self, message_id: int, user_hash: str, vote: Vote) -> None:
        """One vote per person per clip; voting again replaces it."""
        if vote not in (1, -1):
            raise ValueError(f"vote must be 1 or -1, not {vote!r}")
        with self._tx() as db:
            db.execute(
                "INSERT INTO feedback (message_id, user_hash, vote, created) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (message_id, user_hash) DO UPDATE SET vote = excluded.vote, "
                "created = excluded.created",
                (message_id, user_hash, vote, self._clock()),
            )

    def feedback(self, message_id: int) -> dict[str, int]:
        """Votes on one clip: {"up": n, "down": m}."""
        with self._lock:
            rows = self._db.execute(
                "SELECT vote, COUNT(*) FROM feedback WHERE message_id = ? GROUP BY vote", (message_id,)
            ).fetchall()
        counts = dict(rows)
        return {"up": counts.get(1, 0), "down": counts.get(-1, 0)}


def schema_version(db: sqlite3.Connection) -> int:
    db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = db.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(db: sqlite3.Connection, migrations: list[str] = MIGRATIONS) -> list[int]:
    """Apply the migrations this database has not had yet, each in its own transaction; returns
    their versions. Raises RuntimeError for a database newer than this code."""
    current = schema_version(db)
    if current > len(migrations):
        raise RuntimeError(
            f"the guild database is at schema version {current}; this reactclip knows {len(migrations)}"
        )
    applied: list[int] = []
    for version, sql in enumerate(migrations[current:], start=current + 1):
        db.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated since we looked; the lock makes this check final.
            if schema_version(db) < version:
                for statement in sql.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
                applied.append(version)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    return applied
