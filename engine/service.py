"""Build the engine a process runs: the executor with its backends, cache store and hooks, from the
settings. The bot calls this once and then only talks to the ``Executor`` interface."""

from __future__ import annotations

from collections.abc import Callable

from reactclip.engine.backends import Backend, auto_choice, create_backend
from reactclip.engine.cache import LocalClipStore, RedisClipStore, cache_key
from reactclip.engine.cache.store import ClipStore
from reactclip.engine.clip import Clip
from reactclip.engine.clipmaker import Inspector
from reactclip.engine.executor.abtest import DEFAULT_VARIANT
from reactclip.engine.executor.base import Executor
from reactclip.engine.executor.executor import InProcessExecutor
from reactclip.engine.settings import EngineSettings
from reactclip.engine.spec import GenerationSpec

REDIS_MAX_ENTRY_BYTES = 16 * 1024 * 1024


def open_store(settings: EngineSettings) -> ClipStore | None:
    """The configured clip store, or None when caching is off."""
    cache = settings.cache
    if cache.store == "local":
        return LocalClipStore(cache.dir.expanduser(), cache.max_bytes)
    if cache.store == "redis":
        return RedisClipStore(settings.redis_url, cache.ttl_s, REDIS_MAX_ENTRY_BYTES)
    return None


def backend_factory(settings: EngineSettings) -> Callable[[str], Backend]:
    """Backends by the names the executor asks for: "default" (the configured backend), an A/B
    variant (its own Wan weights), or a fallback name (sticker, tiny, wan)."""

    def build(name: str) -> Backend:
        if name == DEFAULT_VARIANT:
            return create_backend(settings)
        if name in settings.variant_models:
            variant = settings.model_copy(deep=True)
            variant.wan.model = settings.variant_models[name]
            variant.wan.timesteps = settings.variant_timesteps.get(name)
            return create_backend(variant, "wan")
        return create_backend(settings, name)

    return build


def key_function(settings: EngineSettings) -> Callable[[GenerationSpec], str]:
    """The cache key: the spec, the variant it asks for, the backend that will run it (``auto``
    resolved here, so a sticker clip never answers once Wan can run) and the weights revision."""
    backend = settings.backend if settings.backend != "auto" else auto_choice(settings)[0]

    def key(spec: GenerationSpec) -> str:
        return cache_key(spec, f"{backend}:{spec.variant}", settings.wan.revision)

    return key


def build_executor(
    settings: EngineSettings,
    *,
    inspect: Inspector | None = None,
    may_cache: Callable[[Clip], bool] | None = None,
) -> Executor:
    """The embedded executor (one worker thread owning the backends, the configured cache), or the
    distributed client when ``settings.distributed.enabled`` (frames are inspected on the workers)."""
    if settings.distributed.enabled:
        from reactclip.engine.executor.distributed import DistributedExecutor

        store = open_store(settings)
        return DistributedExecutor(
            settings.redis_url,
            settings.executor,
            queue_name=settings.distributed.queue_name,
            heartbeat_s=settings.distributed.heartbeat_s,
            # Keyed by what the workers publish they render with (Renderer), not resolved here.
            store=store if isinstance(store, RedisClipStore) else None,
        )
    return InProcessExecutor(
        backend_factory(settings),
        settings.executor,
        upload_limit_bytes=settings.upload_limit_bytes,
        inspect=inspect,
        may_cache=may_cache,
        store=open_store(settings),
        key_fn=key_function(settings),
    )
