"""The clip cache: a key that names a clip by everything that determines its bytes, two stores
behind one interface (local SQLite + files, the embedded default; Redis, shared by many processes),
and single-flight so identical requests in flight at once share one generation.

A caller (the executor) uses them together::

    key = cache_key(spec, backend.variant, revision)
    clip = await store.get(key)
    if clip is None:
        clip = await flights.run(key, lambda: generate_and_put(key, spec))
"""

from reactclip.engine.cache.key import PIPELINE_VERSION, cache_key
from reactclip.engine.cache.local import LocalClipStore
from reactclip.engine.cache.record import CorruptRecord
from reactclip.engine.cache.redis_store import RedisClipStore
from reactclip.engine.cache.singleflight import SingleFlight
from reactclip.engine.cache.store import CacheStats, ClipStore

__all__ = [
    "PIPELINE_VERSION",
    "CacheStats",
    "ClipStore",
    "CorruptRecord",
    "LocalClipStore",
    "RedisClipStore",
    "SingleFlight",
    "cache_key",
]
