"""The embedded clip store: an SQLite index plus one file per clip, LRU under a size cap.

Several processes (bot shards, a CLI run, a worker) may share one root:

- the index runs in WAL mode with a busy timeout, so readers never wait for a writer and writers
  queue for each other instead of failing;
- each put writes its bytes to a temporary file and renames it (``os.replace``) to a name no other
  put uses, then points the index row at it in one transaction: a reader finds a file only through a
  committed row, so it never sees half a file, and a replaced or evicted file is unlinked only after
  the row that named it is gone;
- a reader whose file has vanished (evicted by another process between the two steps) or no longer
  matches its checksum answers a miss and drops that row, unless a newer put has replaced it.

Recency is a logical clock kept in the index (each get or put takes the next tick), so LRU order is
exact across processes and does not depend on their wall clocks agreeing. The root must be on a local
disk: SQLite's locking is not reliable on network filesystems.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from reactclip.engine.cache.record import CorruptRecord, decode_record, encode_record
from reactclip.engine.cache.store import CacheStats
from reactclip.engine.clip import Clip

log = logging.getLogger(__name__)

T = TypeVar("T")

INDEX_NAME = "index.sqlite3"
BUSY_TIMEOUT_S = 10.0
STALE_TEMP_S = 3600.0
"""A temporary file older than this was left by a process that died mid-write."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS clips (
    key TEXT PRIMARY KEY,
    file TEXT NOT NULL,
    size INTEGER NOT NULL,
    meta BLOB NOT NULL,
    created REAL NOT NULL,
    tick INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS clips_by_tick ON clips (tick);
"""


class LocalClipStore:
    """Clips under ``root`` (created if absent), at most ``max_bytes`` of clip files in all.

    Blocking work runs on a small thread pool of the store's own, one SQLite connection per thread,
    so the event loop never waits on the disk or on another process's lock.
    """

    def __init__(self, root: Path, max_bytes: int, *, threads: int = 4) -> None:
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, got {max_bytes}")
        self.root = Path(root)
        self.max_bytes = max_bytes
        self._files = self.root / "clips"
        self._temp = self.root / "tmp"
        self._files.mkdir(parents=True, exist_ok=True)
        self._temp.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="clip-store")
        self._hits = 0
        self._misses = 0
        self._counts_lock = threading.Lock()
        self._closed = False
        self._create_index()
        self._remove_stale_temp_files()

    # -- the async interface (ClipStore) ------------------------------------------------------------

    async def get(self, key: str) -> Clip | None:
        try:
            clip = await self._run(self.get_sync, key)
        except (sqlite3.Error, OSError) as error:
            log.warning("clip cache read failed for %s: %s", key, error)
            clip = None
        return clip

    async def put(self, key: str, clip: Clip) -> bool:
        try:
            return await self._run(self.put_sync, key, clip)
        except (sqlite3.Error, OSError) as error:
            log.warning("clip cache write failed for %s: %s", key, error)
            return False

    async def delete(self, key: str) -> None:
        await self._run(self.delete_sync, key)

    async def stats(self) -> CacheStats:
        return await self._run(self.stats_sync)

    async def close(self) -> None:
        self.close_sync()

    # -- the same, blocking (for threads and child processes without an event loop) ----------------

    def get_sync(self, key: str) -> Clip | None:
        db = self._db()
        row = db.execute("SELECT file, meta FROM clips WHERE key = ?", (key,)).fetchone()
        if row is None:
            self._count(hit=False)
            return None
        file, meta = row
        try:
            clip = decode_record(meta, (self._files / file).read_bytes())
        except (OSError, CorruptRecord) as error:
            log.info("clip cache entry %s is unreadable (%s); dropping it", key, error)
            # Only the row that named this file: a concurrent put may already have replaced it.
            with self._write(db):
                db.execute("DELETE FROM clips WHERE key = ? AND file = ?", (key, file))
            self._unlink(file)
            self._count(hit=False)
            return None
        with self._write(db):
            db.execute("UPDATE clips SET tick = (SELECT MAX(tick) FROM clips) + 1 WHERE key = ?", (key,))
        self._count(hit=True)
        return clip

    def put_sync(self, key: str, clip: Clip) -> bool:
        meta, data = encode_record(clip)
        if len(data) > self.max_bytes:
            log.warning(
                "clip of %d bytes not cached: larger than the cache (%d bytes)", len(data), self.max_bytes
            )
            return False
        file = f"{key[:2]}/{key}.{uuid.uuid4().hex[:12]}.{clip.format.value}"
        path = self._files / file
        path.parent.mkdir(exist_ok=True)
        temp = self._temp / f"{uuid.uuid4().hex}.part"
        try:
            temp.write_bytes(data)
            os.replace(temp, path)
        finally:
            temp.unlink(missing_ok=True)
        db = self._db()
        try:
            with self._write(db):
                old = db.execute("SELECT file FROM clips WHERE key = ?", (key,)).fetchone()
                db.execute(
                    "INSERT OR REPLACE INTO clips (key, file, size, meta, created, tick) VALUES "
                    "(?, ?, ?, ?, ?, (SELECT COALESCE(MAX(tick), 0) + 1 FROM clips))",
                    (key, file, len(data), meta, time.time()),
                )
                evicted = self._evict(db)
        except BaseException:
            self._unlink(file)
            raise
        for gone in ([old[0]] if old else []) + evicted:
            self._unlink(gone)
        return True

    def delete_sync(self, key: str) -> None:
        db = self._db()
        with self._write(db):
            row = db.execute("DELETE FROM clips WHERE key = ? RETURNING file", (key,)).fetchone()
        if row is not None:
            self._unlink(row[0])

    def stats_sync(self) -> CacheStats:
        entries, size = self._db().execute("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM clips").fetchone()
        return CacheStats(entries=entries, bytes=size, hits=self._hits, misses=self._misses)

    def close_sync(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._pool.shutdown(wait=True)
        with self._connections_lock:
            for db in self._connections:
                db.close()
            self._connections.clear()

    # -- internals ---------------------------------------------------------------------------------

    async def _run(self, work: Callable[..., T], *args: object) -> T:
        if self._closed:
            raise RuntimeError("the clip store is closed")
        return await asyncio.get_running_loop().run_in_executor(self._pool, work, *args)

    def _evict(self, db: sqlite3.Connection) -> list[str]:
        """Drop least recently used rows until the files fit ``max_bytes``; the caller unlinks the
        returned files once the transaction has committed."""
        (total,) = db.execute("SELECT COALESCE(SUM(size), 0) FROM clips").fetchone()
        evicted: list[str] = []
        if total <= self.max_bytes:
            return evicted
        for key, file, size in db.execute("SELECT key, file, size FROM clips ORDER BY tick").fetchall():
            if total <= self.max_bytes:
                break
            db.execute("DELETE FROM clips WHERE key = ?", (key,))
            evicted.append(file)
            total -= size
        return evicted

    def _count(self, *, hit: bool) -> None:
        with self._counts_lock:
            if hit:
                self._hits += 1
            else:
                self._misses += 1

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = self._connect()
            self._local.db = db
            with self._connections_lock:
                self._connections.append(db)
        return db

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: no implicit transactions; writes take BEGIN IMMEDIATE in _write.
        db = sqlite3.connect(
            self.root / INDEX_NAME, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        db.execute("PRAGMA synchronous = NORMAL")
        return db

    @contextlib.contextmanager
    def _write(self, db: sqlite3.Connection) -> Iterator[None]:
        # IMMEDIATE takes the write lock up front, so two writers queue on busy_timeout instead of
        # one failing to upgrade a read lock (SQLITE_BUSY with no wait).
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _create_index(self) -> None:
        db = self._connect()
        try:
            # Switching to WAL needs a moment alone with the file; another process opening the
            # same root at once can make it fail, so retry briefly (it is a no-op once set).
            for attempt in range(50):
                try:
                    db.execute("PRAGMA journal_mode = WAL")
                    break
                except sqlite3.OperationalError:
                    if attempt == 49:
                        raise
                    time.sleep(0.1)
            with self._write(db):
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
        finally:
            db.close()

    def _remove_stale_temp_files(self) -> None:
        cutoff = time.time() - STALE_TEMP_S
        for temp in self._temp.glob("*.part"):
            with contextlib.suppress(OSError):
                if temp.stat().st_mtime < cutoff:
                    temp.unlink()

    def _unlink(self, file: str) -> None:
        with contextlib.suppress(OSError):
            (self._files / file).unlink()
