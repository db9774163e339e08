"""Where Wan's three models live while it renders: memory plans, their estimated peaks, and the
choice ``auto`` makes, so the 5B model runs on the 16 and 24 GB cards operators own and not only on
a datacenter one.

Plans, fastest first:

- ``full``: everything on the GPU (about 24 GB of weights in bf16 with the VAE in fp32).
- ``text-encoder-offload``: UMT5-XXL (11.4 GB) stays on the CPU and encodes prompts there, the
  transformer and the VAE on the GPU. Prompt encoding is a small part of a clip, and the embedding
  cache skips most of it (embeddings.py).
- ``model-offload``: diffusers' model CPU offload: each model moves to the GPU when it runs.
- ``group-offload``: diffusers' group offloading: the transformer's blocks move in groups, so only
  a few are on the GPU at once (about 12 GB for a 480p clip).

The estimate of a plan is the weights it keeps on the GPU (counted from the loaded modules, or the
full-size counts below) plus the activations of the requested size and batch. The activation
constants are coarse and say so: bench/gpu_wan.py measures each plan's real peak on a GPU, and
these should follow its numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import torch
from diffusers import WanPipeline

from reactclip.engine.spec import GenerationSpec

Plan = Literal["full", "text-encoder-offload", "model-offload", "group-offload"]
PlanSetting = Literal["auto", "full", "text-encoder-offload", "model-offload", "group-offload"]
PLANS: tuple[Plan, ...] = get_args(Plan)
"""Fastest first: ``auto`` takes the first that fits."""
GIB = 2**30

TRANSFORMER_ACTIVATION_BYTES_PER_TOKEN = 3072 * 2 * 24
"""Per latent token of one clip: hidden width (3072) x bf16 x about 24 live tensors of that width at
the peak of a block (attention and the feed-forward's 4x expansion); coarse."""
VAE_DECODE_BYTES_PER_PIXEL = 600
"""Per output pixel-frame of the fp32 VAE decode without tiling; coarse (the decode is the largest
single allocation of a clip)."""
GROUP_RESIDENT_SHARE = 0.15
"""The share of the transformer's weights group offloading keeps on the GPU at once."""


@dataclass(frozen=True)
class ModelBytes:
    """The weights of each model, in bytes, in the dtypes they run in."""

    text_encoder: int
    transformer: int
    vae: int

    @classmethod
    def of(cls, pipe: WanPipeline) -> ModelBytes:
        return cls(_bytes(pipe.text_encoder), _bytes(pipe.transformer), _bytes(pipe.vae))


WAN22_TI2V_5B = ModelBytes(text_encoder=5_681_000_000 * 2, transformer=5_000_000_000 * 2, vae=705_000_000 * 4)
"""Wan2.2-TI2V-5B as loaded (bf16 text encoder and transformer, fp32 VAE), from the parameter
counts bench/gpu_wan.py --meta prints: 5.681 B, 5.000 B and 0.705 B."""


def _bytes(module: torch.nn.Module) -> int:
    tensors = [*module.parameters(), *module.buffers()]
    return sum(tensor.numel() * tensor.element_size() for tensor in tensors)


def activation_bytes(spec: GenerationSpec, batch: int) -> tuple[int, int]:
    """(transformer, VAE decode) activation peaks of a batch of ``spec``; guidance doubles the
    transformer's (the conditional and unconditional passes)."""
    latent_frames = (spec.model_frames - 1) // 4 + 1
    tokens = latent_frames * (spec.model_height // 32) * (spec.model_width // 32)
    passes = 2 if spec.guidance > 1.0 else 1
    transformer = tokens * TRANSFORMER_ACTIVATION_BYTES_PER_TOKEN * batch * passes
    vae = spec.model_frames * spec.model_height * spec.model_width * VAE_DECODE_BYTES_PER_PIXEL * batch
    return transformer, vae


def estimate(plan: Plan, weights: ModelBytes, spec: GenerationSpec, batch: int = 1) -> int:
    """The estimated peak GPU memory of rendering a batch of ``spec`` under ``plan``."""
    transformer_act, vae_act = activation_bytes(spec, batch)
    if plan == "full":
        return weights.text_encoder + weights.transformer + weights.vae + max(transformer_act, vae_act)
    if plan == "text-encoder-offload":
        return weights.transformer + weights.vae + max(transformer_act, vae_act)
    if plan == "model-offload":
        return max(weights.text_encoder, weights.transformer + transformer_act, weights.vae + vae_act)
    resident = int(weights.transformer * GROUP_RESIDENT_SHARE)
    return max(weights.text_encoder // 8, resident + transformer_act, weights.vae + vae_act)


def choose(
    free_bytes: int, weights: ModelBytes, spec: GenerationSpec, batch: int = 1, margin: float = 0.1
) -> tuple[Plan, str]:
    """The fastest plan whose estimate fits ``free_bytes`` less ``margin``, and why (for the log);
    the last plan when none fits (it may still run, slowly, or run out of memory)."""
    budget = free_bytes * (1 - margin)
    for plan in PLANS:
        needed = estimate(plan, weights, spec, batch)
        if needed <= budget:
            return plan, f"{plan} needs about {needed / GIB:.1f} GiB of the {free_bytes / GIB:.1f} GiB free"
    last = PLANS[-1]
    needed = estimate(last, weights, spec, batch)
    return (
        last,
        f"even {last} needs about {needed / GIB:.1f} GiB, more than the {free_bytes / GIB:.1f} GiB free",
    )


def place(pipe: WanPipeline, plan: Plan, device: torch.device) -> torch.device:
    """Put the pipeline's models where ``plan`` says; returns the device prompts are encoded on."""
    if plan == "full":
        pipe.to(device)
    elif plan == "text-encoder-offload":
        for model in (pipe.transformer, pipe.vae):
            model.to(device)
        pipe.text_encoder.to("cpu")
        return torch.device("cpu")
    elif plan == "model-offload":
        pipe.enable_model_cpu_offload(device=device)
    else:
        pipe.enable_group_offload(
            onload_device=device,
            offload_device=torch.device("cpu"),
            offload_type="block_level",
            num_blocks_per_group=2,
        )
    return device
