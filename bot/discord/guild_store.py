"""Per-guild settings, clip requests (for the buttons) and feedback votes, in one SQLite file.

Every setting and its default is declared once, in ``GuildSettings``; a guild's row holds only what
it changed, so a new setting needs no migration. The schema itself changes only through
``MIGRATIONS``, applied in order, each once, tracked in ``schema_version``.

The store is synchronous on purpose: every call touches a handful of rows in a local file in WAL
mode (well under a millisecond), so it runs on the event loop rather than paying a thread hop. A
slow disk would be the reason to move the calls into ``asyncio.to_thread``.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import discord

from reactclip.engine.spec import MAX_FRAMES, MIN_FRAMES
from reactclip.moderation.context import GuildPolicy, Strictness
from reactclip.speech.wake import DEFAULT_WAKE_PHRASE, MAX_WAKE_PHRASE_CHARS, VOICE_MODES, VoiceMode, words_of

Vote = Literal[1, -1]

STRICTNESS_ORDER: tuple[Strictness, ...] = get_args(Strictness)
"""From the loosest to the strictest; the default (the first) is the loosest a guild may be."""

MAX_MASCOT_CHARS = 60


@dataclass(frozen=True)
class GuildSettings:
    """One guild's settings; the values here are every guild's defaults."""

    enabled_channels: tuple[int, ...] = ()
    """Channels where the bot answers; empty means every channel it can see."""
    default_style: str | None = None
    """None: the operator's default style."""
    default_frames: int | None = None
    """None: the operator's default frame count."""
    mascot: str | None = None
    """The subject of clips whose message names none; None: the operator's mascot."""
    strictness: Strictness = "standard"
    allow_nsfw_channels: bool = True
    voice_triggers: bool = False
    """Whether ``/reactclip listen`` may join a voice channel here."""
    voice_mode: VoiceMode = "wake"
    """In voice: "wake" reacts to utterances that start with ``wake_phrase``; "every" to each one."""
    wake_phrase: str = DEFAULT_WAKE_PHRASE
    listen_permission: str = "move_members"
    """The permission (discord.py's name for it) a member needs to start or stop listening."""
    instant_preview: bool = True
    """Post a sticker at once while a slow clip is made (when the operator allows it)."""
    voice_messages: bool = False
    """React to every voice message in the enabled channels, not only those sent to the bot
    (rate-limited per channel by the operator's ``voice_message_interval_s``)."""

    @property
    def policy(self) -> GuildPolicy:
        return GuildPolicy(allow_nsfw_channels=self.allow_nsfw_channels, strictness=self.strictness)

    def channel_enabled(self, *channel_ids: int | None) -> bool:
        """Whether the bot answers here; pass a thread's id and its parent's."""
        if not self.enabled_channels:
            return True
        return any(cid in self.enabled_channels for cid in channel_ids if cid is not None)


DEFAULTS = GuildSettings()
FIELDS = {f.name for f in dataclasses.fields(GuildSettings)}


class GuildSettingError(ValueError):
    """A setting a guild may not have; the message says what is allowed."""


def check_setting(name: str, value: Any) -> Any:
    """The value to store for ``name``, or GuildSettingError. A guild may never be looser than the
    defaults: strictness only at or above "standard" (so back to "standard" is fine)."""
    if name not in FIELDS:
        raise GuildSettingError(f"{name!r} is not a setting; the settings are {', '.join(sorted(FIELDS))}")
    if name == "strictness":
        if value not in STRICTNESS_ORDER or STRICTNESS_ORDER.index(value) < STRICTNESS_ORDER.index(
            DEFAULTS.strictness
        ):
            raise GuildSettingError(
                f"strictness {value!r} is not allowed; choose one of {', '.join(STRICTNESS_ORDER)}"
            )
    elif name in ("allow_nsfw_channels", "voice_triggers", "instant_preview", "voice_messages"):
        if not isinstance(value, bool):
            raise GuildSettingError(f"{name} must be on or off")
    elif name == "default_frames":
        if value is not None and (isinstance(value, bool) or not MIN_FRAMES <= int(value) <= MAX_FRAMES):
            raise GuildSettingError(f"frames must be {MIN_FRAMES}-{MAX_FRAMES}")
    elif name == "mascot":
        if value is not None:
            value = " ".join(str(value).split())
            if not value or len(value) > MAX_MASCOT_CHARS:
                raise GuildSettingError(f"the mascot must be 1-{MAX_MASCOT_CHARS} characters")
    elif name == "enabled_channels":
        value = tuple(sorted({int(cid) for cid in value}))
    elif name == "voice_mode":
        if value not in VOICE_MODES:
            raise GuildSettingError(f"voice mode must be one of {', '.join(VOICE_MODES)}")
    elif name == "wake_phrase":
        value = " ".join(str(value).split())
        if not words_of(value) or len(value) > MAX_WAKE_PHRASE_CHARS:
            raise GuildSettingError(
                f"the wake phrase must be 1-{MAX_WAKE_PHRASE_CHARS} characters with a word in it"
            )
    elif name == "listen_permission" and value not in discord.Permissions.VALID_FLAGS:
        raise GuildSettingError(f"{value!r} is not a Discord permission")
    return value


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
]
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True)
class ClipRequest:
    """What a posted clip was made from; its buttons carry only ``request_id``."""

    request_id: str
    user_id: int
    guild_id: int | None
    text: str
    style: str | None = None
    frames: int | None = None


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
            if name not in FIELDS:
                continue  # a setting a newer version wrote; ignore rather than fail
            value = json.loads(raw)
            try:
                changed[name] = check_setting(name, value)
            except (GuildSettingError, TypeError, ValueError):
                continue  # an edited or corrupt row falls back to the default, never looser
        return dataclasses.replace(DEFAULTS, **changed)

    def set(self, guild_id: int, **changes: Any) -> GuildSettings:
        """Change some settings (checked first, all or none); a value equal to the default is
        dropped from the row so later default changes reach this guild."""
        checked = {name: check_setting(name, value) for name, value in changes.items()}
        with self._tx() as db:
            for name, value in checked.items():
                if value == getattr(DEFAULTS, name):
                    db.execute("DELETE FROM guild_settings WHERE guild_id = ? AND name = ?", (guild_id, name))
                else:
                    db.execute(
                        "INSERT INTO guild_settings (guild_id, name, value) VALUES (?, ?, ?) "
                        "ON CONFLICT (guild_id, name) DO UPDATE SET value = excluded.value",
                        (guild_id, name, json.dumps(value)),
                    )
        return self.get(guild_id)

    def reset(self, guild_id: int) -> GuildSettings:
        with self._tx() as db:
            db.execute("DELETE FROM guild_settings WHERE guild_id = ?", (guild_id,))
        return DEFAULTS

    # Clip requests ------------------------------------------------------------------------------

    def save_request(self, request: ClipRequest) -> None:
        now = self._clock()
        with self._tx() as db:
            db.execute("DELETE FROM clip_requests WHERE created < ?", (now - self.request_ttl_s,))
            db.execute(
                "INSERT OR REPLACE INTO clip_requests VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    request.request_id,
                    request.user_id,
                    request.guild_id,
                    request.text,
                    request.style,
                    request.frames,
                    now,
                ),
            )

    def load_request(self, request_id: str) -> ClipRequest | None:
        """The request, or None when unknown or older than ``request_ttl_s``."""
        with self._lock:
            row = self._db.execute(
                "SELECT request_id, user_id, guild_id, text, style, frames FROM clip_requests "
                "WHERE request_id = ? AND created >= ?",
                (request_id, self._clock() - self.request_ttl_s),
            ).fetchone()
        return ClipRequest(*row) if row else None

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
