"""The clip cache: a key that names a clip by everything that determines its bytes, and two stores
behind one interface (local SQLite + files, the embedded default; Redis, shared by many processes).

The executor looks a key up before queueing and puts the clip after it is made; identical requests
in flight at once join the one job already queued for their key (the executor's own single-flight,
in process; the arq job id across processes)."""

from reactclip.engine.cache.key import PIPELINE_VERSION, cache_key
from reactclip.engine.cache.local import LocalClipStore
from reactclip.engine.cache.record import CorruptRecord
from reactclip.engine.cache.redis_store import RedisClipStore
from reactclip.engine.cache.store import CacheStats, ClipStore

__all__ = [
    "PIPELINE_VERSION",
    "CacheStats",
    "ClipStore",
    "CorruptRecord",
    "LocalClipStore",
    "RedisClipStore",
    "cache_key",
]
