"""Optional Wan speed-ups, each behind a setting and off until bench/gpu_wan.py shows it pays."""

from __future__ import annotations

import logging

from diffusers import FirstBlockCacheConfig, MagCacheConfig, TaylorSeerCacheConfig, WanPipeline

from reactclip.engine.backends.base import BackendError
from reactclip.engine.settings import WanSettings

log = logging.getLogger(__name__)


def apply_speedups(pipe: WanPipeline, settings: WanSettings) -> list[str]:
    """Apply the configured speed-ups; returns their names (they go into the variant tag, since a
    cache hook changes the pixels)."""
    applied: list[str] = []
    transformer = pipe.transformer
    if settings.cache_hook == "first_block":
        transformer.enable_cache(FirstBlockCacheConfig(threshold=settings.cache_threshold))
        applied.append(f"fbcache{settings.cache_threshold:g}")
    elif settings.cache_hook == "taylorseer":
        transformer.enable_cache(TaylorSeerCacheConfig())
        applied.append("taylorseer")
    elif settings.cache_hook == "mag":
        if not settings.mag_ratios:
            raise BackendError(
                "MagCache needs calibrated ratios: set engine.wan.mag_ratios "
                "(bench/gpu_wan.py --calibrate-mag prints them)"
            )
        transformer.enable_cache(
            MagCacheConfig(
                threshold=settings.cache_threshold,
                mag_ratios=settings.mag_ratios,
                num_inference_steps=len(settings.mag_ratios),
            )
        )
        applied.append(f"magcache{settings.cache_threshold:g}")
    if settings.attention_backend:
        transformer.set_attention_backend(settings.attention_backend)
        applied.append(f"attn-{settings.attention_backend}")
    if settings.vae_tiling:
        pipe.vae.enable_tiling()
        applied.append("vae-tiling")
    if settings.vae_slicing:
        pipe.vae.enable_slicing()
        applied.append("vae-slicing")
    if settings.compile_blocks:
        transformer.compile_repeated_blocks(fullgraph=True)
        applied.append("compiled")
    if applied:
        log.info("wan speed-ups: %s", ", ".join(applied))
    return applied
