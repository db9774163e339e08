"""The Wan backend: a batch of GenerationSpecs through diffusers' WanPipeline.

One WanBackend owns one loaded pipeline. A diffusers pipeline keeps per-call state in its scheduler,
so it is never shared between threads: concurrency comes from batching and from more workers.
"""

from __future__ import annotations

import gc
import logging
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import torch
from diffusers import WanPipeline

from reactclip.engine.backends.base import (
    BackendError,
    BackendOutOfMemory,
    Interrupted,
    ProgressCallback,
    RenderedFrames,
    StepProgress,
    StopCheck,
    check_batch,
)
from reactclip.engine.backends.wan.embeddings import PromptEmbeddingCache
from reactclip.engine.backends.wan.fewstep import FixedScheduleScheduler
from reactclip.engine.backends.wan.loading import load_pipeline, resolve_device
from reactclip.engine.backends.wan.memory import ModelBytes, Plan, activation_bytes, choose, place
from reactclip.engine.backends.wan.speedups import apply_speedups
from reactclip.engine.clip import StageTimings
from reactclip.engine.frames import fit_to_spec
from reactclip.engine.settings import WanSettings
from reactclip.engine.spec import GenerationSpec

log = logging.getLogger(__name__)


def memory_plan(pipeline: WanPipeline, settings: WanSettings, device: torch.device) -> Plan:
    """The configured plan, or the one ``auto`` picks for this GPU's free memory (said in the log)."""
    if settings.memory_plan != "auto":
        return settings.memory_plan
    if device.type != "cuda":
        return "full"  # the CPU's memory is the machine's: nothing to offload to
    free, _ = torch.cuda.mem_get_info(device)
    plan, why = choose(
        free, ModelBytes.of(pipeline), GenerationSpec(prompt="reference"), margin=settings.memory_margin
    )
    log.info("memory plan auto -> %s: %s", plan, why)
    return plan


class WanBackend:
    """Renders specs with a loaded WanPipeline and reports progress per denoising step."""

    def __init__(
        self,
        pipeline: WanPipeline,
        device: torch.device,
        *,
        name: str = "wan",
        variant: str,
        max_sequence_length: int = 226,
        prompt_cache_entries: int = 256,
        timesteps: Sequence[int] | None = None,
        text_device: torch.device | None = None,
        free_memory: Callable[[], int] | None = None,
        memory_margin: float = 0.1,
    ) -> None:
        """``timesteps``: a step-distilled model's fixed schedule (fewstep.py), guidance off.
        ``text_device``: where prompts are encoded (the CPU under text-encoder offload).
        ``free_memory``: the GPU's free bytes now (default: CUDA's own count; none on the CPU), so
        that a batch never holds more clips than the activations of what is free allow."""
        self.pipeline = pipeline
        self.device = device
        self.name = name
        self.variant = variant
        self.max_sequence_length = max_sequence_length
        self.text_device = text_device or device
        self._free_memory = free_memory or (
            (lambda: torch.cuda.mem_get_info(device)[0]) if device.type == "cuda" else None
        )
        self.memory_margin = memory_margin
        self.embeddings = PromptEmbeddingCache(prompt_cache_entries, max_sequence_length)
        self.fixed_steps = len(timesteps) if timesteps else None
        if timesteps:
            pipeline.scheduler = FixedScheduleScheduler(timesteps=list(timesteps))
        pipeline.set_progress_bar_config(disable=True)

    @classmethod
    def from_settings(cls, settings: WanSettings) -> WanBackend:
        """Check CUDA, find (or download) the weights, load them and apply the configured speed-ups."""
        device = resolve_device(settings)
        pipeline = load_pipeline(settings, device)
        plan = memory_plan(pipeline, settings, device)
        text_device = place(pipeline, plan, device)
        speedups = apply_speedups(pipeline, settings)
        sampler = f"fewstep{len(settings.timesteps)}" if settings.timesteps else settings.scheduler
        variant = "+".join([settings.model.rstrip("/").split("/")[-1], sampler, *speedups])
        return cls(
            pipeline,
            device,
            variant=variant,
            max_sequence_length=settings.max_sequence_length,
            prompt_cache_entries=settings.prompt_cache_entries,
            timesteps=settings.timesteps,
            text_device=text_device,
            memory_margin=settings.memory_margin,
        )

    def generate(
        self,
        specs: Sequence[GenerationSpec],
        on_progress: ProgressCallback | None = None,
        should_stop: StopCheck | None = None,
    ) -> list[RenderedFrames]:
        """Render the batch; when ``should_stop`` turns True between two denoising steps, raise
        Interrupted without decoding. A diffusers call cannot be resumed mid-schedule (the scheduler's
        state lives in the call), so a stopped batch is run again from the first step."""
        check_batch(specs)
        fits = self.max_batch_for(specs[0])
        if len(specs) > fits:  # what the executor batched does not fit beside the weights: in turns
            return [
                frames
                for start in range(0, len(specs), fits)
                for frames in self.generate(specs[start : start + fits], on_progress, should_stop)
            ]
        cuda = self.device.type == "cuda"
        if cuda:
            torch.cuda.reset_peak_memory_stats(self.device)
        try:
            with torch.inference_mode():
                videos, timings = self._run(specs, on_progress, should_stop)
        except torch.cuda.OutOfMemoryError as exc:
            raise BackendOutOfMemory(f"out of GPU memory on a batch of {len(specs)}") from exc
        except (RuntimeError, ValueError) as exc:
            raise BackendError(f"wan generation failed: {str(exc).splitlines()[0][:200]}") from exc
        finally:
            peak = torch.cuda.max_memory_allocated(self.device) if cuda else None
            if cuda:
                # Hand cached blocks back between jobs so a bigger next batch (or another process
                # on the GPU) is not refused; gc.collect() is left to close(), it costs ~0.2 s.
                torch.cuda.empty_cache()
        return [
            RenderedFrames(frames=fit_to_spec(video, spec), timings=timings, peak_gpu_memory_bytes=peak)
            for video, spec in zip(videos, specs, strict=True)
        ]

    def max_batch_for(self, spec: GenerationSpec) -> int:
        """The most clips like ``spec`` whose estimated activations (memory.py) fit the memory free
        now, less the margin; at least one, and no limit where nothing reports free memory."""
        if self._free_memory is None:
            return sys.maxsize
        per_clip = max(activation_bytes(spec, 1))
        return max(1, int(self._free_memory() * (1 - self.memory_margin)) // per_clip)

    def _run(
        self,
        specs: Sequence[GenerationSpec],
        on_progress: ProgressCallback | None,
        should_stop: StopCheck | None,
    ) -> tuple[Any, StageTimings]:
        """Text encoding (each text once, a cached one not at all), then denoising and VAE decoding
        in one pipeline call, timed apart: the last step callback marks where decoding begins."""
        pipe, first = self.pipeline, specs[0]
        timings = StageTimings()
        start = self._now()
        steps = self.fixed_steps or first.steps
        guided = first.guidance > 1.0 and self.fixed_steps is None  # distilled: no guidance
        texts = [spec.prompt for spec in specs] + ([spec.negative_prompt for spec in specs] if guided else [])
        embeds, timings.prompts_cached = self.embeddings.encode(texts, self._encode_texts, self.device)
        prompt_embeds, negative_embeds = embeds[: len(specs)], embeds[len(specs) :] if guided else None
        encoded = self._now()
        timings.text_encoding = encoded - start
        last_step = [encoded]

        def on_step_end(
            _pipe: WanPipeline, step: int, _timestep: Any, callback_kwargs: dict[str, Any]
        ) -> dict[str, Any]:
            last_step[0] = self._now()
            if on_progress is not None:
                on_progress(StepProgress(stage="denoising", step=step + 1, total=steps))
            if should_stop is not None and step + 1 < steps and should_stop():
                # Raised through the pipeline call: its own ``interrupt`` flag would skip the
                # remaining steps but still run the VAE decode, the most expensive single stage.
                raise Interrupted(step + 1, steps)
            return {}

        generators = [torch.Generator(device="cpu").manual_seed(spec.seed) for spec in specs]
        output = pipe(
            prompt_embeds=prompt_embeds,
            negative_prompt_embeds=negative_embeds,
            height=first.model_height,
            width=first.model_width,
            num_frames=first.model_frames,
            num_inference_steps=steps,
            guidance_scale=first.guidance if guided else 1.0,
            generator=generators,
            output_type="np",
            callback_on_step_end=on_step_end,
        )
        done = self._now()
        timings.denoising = last_step[0] - encoded
        timings.decoding = done - last_step[0]
        return output.frames, timings

    def _encode_texts(self, texts: list[str]) -> torch.Tensor:
        embeds, _ = self.pipeline.encode_prompt(
            prompt=texts,
            do_classifier_free_guidance=False,
            max_sequence_length=self.max_sequence_length,
            device=self.text_device,
        )
        return embeds.to(self.device)

    def _now(self) -> float:
        """A timestamp after the GPU has finished what was queued, so stage times are real."""
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return time.perf_counter()

    def close(self) -> None:
        """Drop the pipeline and give its memory back."""
        del self.pipeline
        gc.collect()
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
