"""Seconds per clip for Wan2.2-TI2V-5B on one GPU, through reactclip's own WanBackend, and what
each optional speed-up in engine/backends/wan/speedups.py buys, and each memory plan, the
text-embedding cache and a distilled few-step schedule cost or save.

Workload: 832x480, 16 frames (17 model frames), 25 steps, guidance 7.0 (classifier-free guidance,
so two transformer passes per step). Each row reports the median seconds per clip split into text
encoding, denoising and VAE decoding, the peak GPU memory, and the ratio against the baseline row.
Every row starts from the baseline pipeline: its speed-up is applied, measured, and undone before
the next row; torch.compile and group offloading cannot be undone, so they run last.

Without ``--model`` the weights are random (built on the GPU from the configs below): the timing of
every row but the cache hooks is the same as with the real weights, since the same kernels run on
tensors of the same shapes. A cache hook skips work when the model's activations change little from
one step to the next, which random weights do not imitate; time cache hooks with real weights.

    python bench/gpu_wan.py --out docs/perf.md                   # random weights, all rows
    python bench/gpu_wan.py --model /models/Wan2.2-TI2V-5B-Diffusers --out docs/perf.md
    python bench/gpu_wan.py --only baseline,fbcache-0.1 --runs 3
    python bench/gpu_wan.py --meta                                 # no GPU: parameter counts only
    python bench/gpu_wan.py --tiny --runs 1 --warmup 0             # no GPU: smoke-test the harness
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from _report import Stats, machine_description, markdown_table, provenance, publish, ratio, seconds
from diffusers import (
    AutoencoderKLWan,
    MagCacheConfig,
    UniPCMultistepScheduler,
    WanPipeline,
    WanTransformer3DModel,
)
from transformers import UMT5Config, UMT5EncoderModel

from reactclip.engine.backends.wan import WanBackend, build_tiny_wan_pipeline
from reactclip.engine.backends.wan.fewstep import DEFAULT_TIMESTEPS, FixedScheduleScheduler
from reactclip.engine.backends.wan.loading import make_scheduler
from reactclip.engine.backends.wan.memory import PLANS, WAN22_TI2V_5B, Plan, choose, estimate, place
from reactclip.engine.backends.wan.speedups import apply_speedups
from reactclip.engine.backends.wan.tiny import build_offline_tokenizer
from reactclip.engine.settings import WanSettings
from reactclip.engine.spec import GenerationSpec

SECTION = "## GPU: Wan2.2-TI2V-5B"
PACKAGES = ("torch", "diffusers", "transformers", "accelerate", "flash-attn", "reactclip")
PROMPT = "a cartoon cat celebrating with confetti, big grin, bouncing, bright colours, sticker style"
MAX_SEQUENCE_LENGTH = 226  # WanSettings' default: every prompt is padded to it, so only it matters

# Targets on one H100 (80 GB, SXM) for the workload above.
TARGET_S = 2.5
TARGET_FAST_S = 1.0
H100_DENSE_BF16_FLOPS = 989e12

# The configs of Wan-AI/Wan2.2-TI2V-5B-Diffusers, written out so that random weights of the real
# shapes can be built without a download.
TRANSFORMER_CONFIG: dict[str, Any] = {
    "patch_size": (1, 2, 2),
    "num_attention_heads": 24,
    "attention_head_dim": 128,
    "in_channels": 48,
    "out_channels": 48,
    "text_dim": 4096,
    "freq_dim": 256,
    "ffn_dim": 14336,
    "num_layers": 30,
    "cross_attn_norm": True,
    "qk_norm": "rms_norm_across_heads",
    "eps": 1e-6,
    "rope_max_seq_len": 1024,
}
# The Wan2.2 VAE's per-channel latent statistics (vae/config.json of the diffusers release; the
# same 48 values are hard-coded in Wan2.2's own Wan2_2_VAE).
WAN22_LATENTS_MEAN = [
    -0.2289, -0.0052, -0.1323, -0.2339, -0.2799, 0.0174, 0.1838, 0.1557,
    -0.1382, 0.0542, 0.2813, 0.0891, 0.1570, -0.0098, 0.0375, -0.1825,
    -0.2246, -0.1207, -0.0698, 0.5109, 0.2665, -0.2108, -0.2158, 0.2502,
    -0.2055, -0.0322, 0.1109, 0.1567, -0.0729, 0.0899, -0.2799, -0.1230,
    -0.0313, -0.1649, 0.0117, 0.0723, -0.2839, -0.2083, -0.0520, 0.3748,
    0.0152, 0.1957, 0.1433, -0.2944, 0.3573, -0.0548, -0.1681, -0.0667,
]  # fmt: skip
WAN22_LATENTS_STD = [
    0.4765, 1.0364, 0.4514, 1.1677, 0.5313, 0.4990, 0.4818, 0.5013,
    0.8158, 1.0344, 0.5894, 1.0901, 0.6885, 0.6165, 0.8454, 0.4978,
    0.5759, 0.3523, 0.7135, 0.6804, 0.5833, 1.4146, 0.8986, 0.5659,
    0.7069, 0.5338, 0.4889, 0.4917, 0.4069, 0.4999, 0.6866, 0.4093,
    0.5709, 0.6065, 0.6415, 0.4944, 0.5726, 1.2042, 0.5458, 1.6887,
    0.3971, 1.0600, 0.3943, 0.5537, 0.5444, 0.4089, 0.7468, 0.7744,
]  # fmt: skip
VAE_CONFIG: dict[str, Any] = {
    "base_dim": 160,
    "decoder_base_dim": 256,
    "z_dim": 48,
    "in_channels": 12,
    "out_channels": 12,
    "is_residual": True,
    "patch_size": 2,
    "dim_mult": [1, 2, 4, 4],
    "num_res_blocks": 2,
    "attn_scales": [],
    "temperal_downsample": [False, True, True],
    "scale_factor_spatial": 16,
    "scale_factor_temporal": 4,
    "latents_mean": WAN22_LATENTS_MEAN,
    "latents_std": WAN22_LATENTS_STD,
}
# google/umt5-xxl's encoder.
TEXT_ENCODER_CONFIG: dict[str, Any] = {
    "vocab_size": 256384,
    "d_model": 4096,
    "d_kv": 64,
    "d_ff": 10240,
    "num_layers": 24,
    "num_heads": 64,
    "relative_attention_num_buckets": 32,
    "relative_attention_max_distance": 128,
    "feed_forward_proj": "gated-gelu",
    "pad_token_id": 0,
    "eos_token_id": 1,
}
SCHEDULER_CONFIG: dict[str, Any] = {
    "prediction_type": "flow_prediction",
    "use_flow_sigmas": True,
    "flow_shift": 5.0,
}


@dataclass(frozen=True)
class Workload:
    width: int
    height: int
    frames: int
    steps: int
    guidance: float

    def spec(self, **changes: Any) -> GenerationSpec:
        fields = {
            "prompt": PROMPT,
            "width": self.width,
            "height": self.height,
            "frames": self.frames,
            "steps": self.steps,
            "guidance": self.guidance,
        }
        return GenerationSpec(**(fields | changes))


FULL = Workload(width=832, height=480, frames=16, steps=25, guidance=7.0)
TINY = Workload(width=320, height=240, frames=8, steps=4, guidance=7.0)


@dataclass(frozen=True)
class Variant:
    """One row: the baseline pipeline plus one change. ``settings`` go through the product's
    ``apply_speedups``; ``scheduler`` through the product's ``make_scheduler``."""

    name: str
    what: str
    settings: dict[str, Any] = field(default_factory=dict)
    scheduler: str | None = None
    spec_changes: dict[str, Any] = field(default_factory=dict)
    fast_target: bool = False
    """Judged against the 1 s target (cache hooks, few-step schedules) instead of 2.5 s."""
    plan: Plan | None = None
    """A memory plan other than full (memory.py's ``place``)."""
    prompt_cache: bool = False
    """The text-embedding cache on (every other row runs without it, so text encoding is timed)."""
    timesteps: tuple[int, ...] | None = None
    """A step-distilled schedule through the product's sampler (fewstep.py)."""


VARIANTS: tuple[Variant, ...] = (
    Variant("baseline", "UniPC, native SDPA, no cache, eager"),
    Variant(
        "fbcache-0.05", "FirstBlockCache, threshold 0.05", {"cache_hook": "first_block"}, fast_target=True
    ),
    Variant(
        "fbcache-0.1",
        "FirstBlockCache, threshold 0.1",
        {"cache_hook": "first_block", "cache_threshold": 0.1},
        fast_target=True,
    ),
    Variant(
        "taylorseer", "TaylorSeer cache (diffusers defaults)", {"cache_hook": "taylorseer"}, fast_target=True
    ),
    Variant(
        "magcache-0.06",
        "MagCache, threshold 0.06, ratios calibrated in this run",
        {"cache_hook": "mag", "cache_threshold": 0.06},
        fast_target=True,
    ),
    Variant("vae-tiling", "VAE tiled decoding", {"vae_tiling": True}),
    Variant("vae-slicing", "VAE sliced decoding", {"vae_slicing": True}),
    Variant("attn-flash", "attention backend flash (flash-attn 2)", {"attention_backend": "flash"}),
    Variant("attn-_native_cudnn", "attention backend _native_cudnn", {"attention_backend": "_native_cudnn"}),
    Variant("attn-_native_flash", "attention backend _native_flash", {"attention_backend": "_native_flash"}),
    Variant("dpm", "DPM-Solver++ (2M) on flow sigmas instead of UniPC", scheduler="dpm"),
    Variant(
        "few-step-3",
        "FastWan's 3-step schedule (1000, 757, 522) without guidance through the product's sampler: "
        "the cost of a distilled variant (these weights give poor pixels)",
        timesteps=DEFAULT_TIMESTEPS,
        fast_target=True,
    ),
    Variant("prompt-cache-hit", "the prompt and negative prompt from the embedding cache", prompt_cache=True),
    Variant("plan-text-encoder-offload", "memory plan: UMT5 on the CPU", plan="text-encoder-offload"),
    Variant("plan-model-offload", "memory plan: diffusers' model CPU offload", plan="model-offload"),
    Variant(
        "compiled",
        "torch.compile of the repeated blocks (fullgraph); it cannot be undone, so it runs next to last",
        {"compile_blocks": True},
    ),
    Variant(
        "plan-group-offload",
        "memory plan: diffusers' group offloading (block level); it cannot be undone, so it runs last",
        plan="group-offload",
    ),
)
VARIANT_NAMES = tuple(v.name for v in VARIANTS)
NEEDS_MAG_RATIOS = "magcache-0.06"
PROMPT_CACHE_ENTRIES = 256


@dataclass
class RowResult:
    variant: Variant
    totals: list[float] = field(default_factory=list)
    text_encoding: list[float] = field(default_factory=list)
    denoising: list[float] = field(default_factory=list)
    decoding: list[float] = field(default_factory=list)
    peak_bytes: int | None = None
    first_warmup_s: float | None = None
    skipped: str | None = None


# --- building the pipeline ------------------------------------------------------------------------


def count_parameters(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def build_full_models(
    device: torch.device,
) -> tuple[WanTransformer3DModel, AutoencoderKLWan, UMT5EncoderModel]:
    """The three full-size models with random weights, created directly on ``device`` (``meta``
    for shapes only; ``cuda`` to avoid a minutes-long fp32 initialisation on the CPU)."""
    with device:
        transformer = WanTransformer3DModel(**TRANSFORMER_CONFIG)
        vae = AutoencoderKLWan(**VAE_CONFIG)
        text_encoder = UMT5EncoderModel(UMT5Config(**TEXT_ENCODER_CONFIG))
    for model in (transformer, vae, text_encoder):
        model.eval()
    return transformer, vae, text_encoder


def to_load_dtype(transformer: WanTransformer3DModel, dtype: torch.dtype) -> None:
    """Cast the way ``from_pretrained(torch_dtype=dtype)`` does: everything to ``dtype`` except the
    parameters diffusers keeps in fp32 (norms, time embedder, modulation tables)."""
    keep = set(transformer._keep_in_fp32_modules or [])
    for name, param in transformer.named_parameters():
        wanted = torch.float32 if keep.intersection(name.split(".")) else dtype
        param.data = param.data.to(wanted)


def build_random_pipeline(device: torch.device, dtype: torch.dtype) -> WanPipeline:
    """Wan2.2-TI2V-5B with random weights: bf16 transformer and text encoder, fp32 VAE (as the model
    card loads it). The tokenizer is the offline byte-level one; prompts are padded to the same
    length either way, so the text encoder's cost is unchanged."""
    torch.manual_seed(0)
    transformer, vae, text_encoder = build_full_models(device)
    to_load_dtype(transformer, dtype)
    for param in text_encoder.parameters():  # transformers keeps nothing in fp32 for bf16
        param.data = param.data.to(dtype)
    return WanPipeline(
        tokenizer=build_offline_tokenizer(),
        text_encoder=text_encoder,
        vae=vae,
        scheduler=UniPCMultistepScheduler(**SCHEDULER_CONFIG),
        transformer=transformer,
        expand_timesteps=True,
    )


def load_backend(args: argparse.Namespace) -> tuple[WanBackend, str]:
    """The backend under test and a line saying which weights it holds."""
    if args.tiny:
        pipe = build_tiny_wan_pipeline()
        return WanBackend(pipe, torch.device("cpu"), name="tiny", variant="tiny"), "tiny random weights (CPU)"
    if args.model:
        settings = WanSettings(model=str(args.model), allow_download=False, device="cuda")
        return WanBackend.from_settings(settings), f"real weights from `{args.model}`"
    device = torch.device("cuda")
    start = time.perf_counter()
    pipe = build_random_pipeline(device, torch.bfloat16)
    torch.cuda.synchronize()
    print(f"built random-weight pipeline on {device} in {time.perf_counter() - start:.1f} s", flush=True)
    backend = WanBackend(
        pipe, device, variant="random-Wan2.2-TI2V-5B", max_sequence_length=MAX_SEQUENCE_LENGTH
    )
    return backend, "random weights of the real shapes (timing only; see the note on cache hooks)"


# --- applying and undoing a row's change ----------------------------------------------------------


def apply_variant(backend: WanBackend, variant: Variant, mag_ratios: list[float] | None) -> None:
    pipe = backend.pipeline
    if variant.plan is not None:
        backend.text_device = place(pipe, variant.plan, backend.device)
    if variant.prompt_cache:
        backend.embeddings.max_entries = PROMPT_CACHE_ENTRIES
    if variant.timesteps is not None:
        pipe.scheduler = FixedScheduleScheduler(timesteps=list(variant.timesteps))
        backend.fixed_steps = len(variant.timesteps)
    if variant.settings:
        settings = dict(variant.settings)
        if settings.get("cache_hook") == "mag":
            settings["mag_ratios"] = mag_ratios
        apply_speedups(pipe, WanSettings(**settings))
    if variant.scheduler:
        pipe.scheduler = make_scheduler(pipe, WanSettings(scheduler=variant.scheduler))


def reset_variant(backend: WanBackend, variant: Variant, baseline_scheduler: Any) -> None:
    """Undo whatever ``apply_variant`` did (or half did, when it failed)."""
    pipe = backend.pipeline
    if variant.plan == "model-offload":
        pipe.remove_all_hooks()
    if variant.plan is not None:
        pipe.to(backend.device)
        backend.text_device = backend.device
    backend.embeddings.max_entries = 0
    backend.embeddings.clear()
    backend.fixed_steps = None
    transformer = pipe.transformer
    if transformer.is_cache_enabled:
        transformer.disable_cache()
    if variant.settings.get("attention_backend"):
        # set_attention_backend also changes diffusers' process-wide active backend; put both back.
        transformer.set_attention_backend(os.environ.get("DIFFUSERS_ATTN_BACKEND", "native"))
    pipe.vae.disable_tiling()
    pipe.vae.disable_slicing()
    pipe.scheduler = baseline_scheduler


# --- measuring --------------------------------------------------------------------------------------


def run_row(
    backend: WanBackend,
    variant: Variant,
    workload: Workload,
    runs: int,
    warmup: int,
    mag_ratios: list[float] | None,
) -> RowResult:
    result = RowResult(variant)
    baseline_scheduler = backend.pipeline.scheduler
    spec = workload.spec(**variant.spec_changes)
    # The first call after compiling pays for the compilation, and the first with the embedding cache
    # fills it; neither may be a timed run.
    warmup = max(warmup, 1) if variant.settings.get("compile_blocks") or variant.prompt_cache else warmup
    try:
        apply_variant(backend, variant, mag_ratios)
        for i in range(warmup):
            start = time.perf_counter()
            backend.generate([spec])
            if i == 0:
                result.first_warmup_s = time.perf_counter() - start
        for _ in range(runs):
            start = time.perf_counter()
            rendered = backend.generate([spec])[0]
            result.totals.append(time.perf_counter() - start)
            result.text_encoding.append(rendered.timings.text_encoding)
            result.denoising.append(rendered.timings.denoising)
            result.decoding.append(rendered.timings.decoding)
            if rendered.peak_gpu_memory_bytes is not None:
                result.peak_bytes = max(result.peak_bytes or 0, rendered.peak_gpu_memory_bytes)
    except Exception as exc:  # one row failing (a missing kernel, OOM) must not end the benchmark
        reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
        result.skipped = f"{type(exc).__name__}: {reason}"
    finally:
        if not variant.settings.get("compile_blocks") and variant.plan != "group-offload":
            reset_variant(backend, variant, baseline_scheduler)
    return result


def calibrate_mag(backend: WanBackend, workload: Workload) -> list[float]:
    """MagCache's per-step magnitude ratios for this model and schedule (the conditional pass).
    diffusers prints them at the end of the run; they are read back from its output."""
    transformer = backend.pipeline.transformer
    transformer.enable_cache(MagCacheConfig(calibrate=True, num_inference_steps=workload.steps))
    captured = io.StringIO()
    try:
        with contextlib.redirect_stdout(captured):
            backend.generate([workload.spec()])
    finally:
        transformer.disable_cache()
    lists = [line for line in captured.getvalue().splitlines() if line.startswith("[") and line.endswith("]")]
    if not lists:
        raise RuntimeError("MagCache calibration printed no ratios")
    return [float(x) for x in ast.literal_eval(lists[0])]


def ideal_seconds(transformer_params: int, spec: GenerationSpec) -> float:
    """Compute-bound lower bound on one H100: 2 FLOPs per parameter per token plus self- and
    cross-attention, for every transformer pass (two per step with guidance)."""
    cfg = TRANSFORMER_CONFIG
    dim = cfg["num_attention_heads"] * cfg["attention_head_dim"]
    latent_frames = (spec.model_frames - 1) // 4 + 1
    tokens = latent_frames * (spec.model_height // 32) * (spec.model_width // 32)
    per_pass = 2 * transformer_params * tokens + 4 * cfg["num_layers"] * dim * tokens * (
        tokens + MAX_SEQUENCE_LENGTH
    )
    passes = spec.steps * (2 if spec.guidance > 1.0 else 1)
    return per_pass * passes / H100_DENSE_BF16_FLOPS


# --- reporting --------------------------------------------------------------------------------------


def results_table(results: list[RowResult]) -> str:
    baseline = Stats.of(results[0].totals).median if results and results[0].totals else 0.0
    rows = []
    for result in results:
        variant = result.variant
        if result.skipped or not result.totals:
            rows.append([variant.name, "skipped", "-", "-", "-", "-", "-", "-", "-", "-"])
            continue
        total = Stats.of(result.totals)
        parts = [Stats.of(xs).median for xs in (result.text_encoding, result.denoising, result.decoding)]
        target = TARGET_FAST_S if variant.fast_target else TARGET_S
        rows.append(
            [
                variant.name,
                seconds(total.median),
                seconds(total.p90),
                *(seconds(x) for x in parts),
                seconds(max(total.median - sum(parts), 0.0)),
                f"{result.peak_bytes / 2**30:.1f} GiB" if result.peak_bytes is not None else "-",
                ratio(total.median, baseline),
                f"{'✓' if total.median <= target else '✗'} ≤ {target:g} s",
            ]
        )
    headers = [
        "Row",
        "Median / clip",
        "p90",
        "Text encoding",
        "Denoising",
        "VAE decoding",
        "Other",
        "Peak GPU mem",
        "vs baseline",
        "H100 target",
    ]
    return markdown_table(headers, rows)


def notes(results: list[RowResult], mag_ratios: list[float] | None) -> list[str]:
    lines = []
    for result in results:
        variant = result.variant
        text = f"- `{variant.name}`: {variant.what}."
        if result.skipped:
            text += f" Skipped: {result.skipped}"
        elif variant.settings.get("compile_blocks") and result.first_warmup_s is not None:
            text += f" First call (compilation included): {seconds(result.first_warmup_s)}."
        lines.append(text)
    if mag_ratios:
        lines.append(f"- MagCache ratios calibrated in this run ({len(mag_ratios)} steps): `{mag_ratios}`")
    return lines


def section_body(
    results: list[RowResult],
    args: argparse.Namespace,
    workload: Workload,
    weights: str,
    machine: str,
    ideal: float | None,
) -> str:
    spec = workload.spec()
    ideal_text = "n/a" if ideal is None else f"{ideal:.2f} s"
    description = [
        provenance(machine, PACKAGES),
        f"- Weights: {weights}",
        "",
        f"Workload: {spec.model_width}x{spec.model_height} ({spec.width}x{spec.height} asked), "
        f"{spec.model_frames} model frames ({spec.frames} shown), {spec.steps} steps, guidance "
        f"{spec.guidance:g} (two transformer passes per step), {MAX_SEQUENCE_LENGTH} text tokens, "
        f"batch of one, through `WanBackend.generate`. {args.runs} timed run(s) after {args.warmup} "
        'warm-up run(s) per row. "Other" is the rest of the call: `fit_to_spec` and '
        "`empty_cache` after every batch.",
        "",
        f"Targets on one H100: at most {TARGET_S:g} s per clip at {FULL.steps} steps with guidance "
        f"(compute-bound ideal for this workload {ideal_text} at {H100_DENSE_BF16_FLOPS / 1e12:.0f} "
        "dense bf16 TFLOP/s), at most "
        f"{TARGET_FAST_S:g} s with a cache hook or a distilled few-step variant.",
        "",
        results_table(results),
        "",
        *notes(results, args.mag_ratios),
    ]
    if not args.model:
        description += [
            "",
            "Random weights: the cache-hook rows (and MagCache's ratios) say nothing about the real "
            "model, whose activations change differently from step to step; rerun them with `--model`.",
        ]
    return "\n".join(description)


def gpu_line() -> str:
    if not torch.cuda.is_available():
        return "no CUDA device"
    props = torch.cuda.get_device_properties(0)
    return (
        f"{props.name} ({props.total_memory / 2**30:.0f} GiB, {torch.cuda.device_count()} visible), "
        f"CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}"
    )


def print_meta_counts() -> int:
    """Build the full-size models on the meta device (no memory, no GPU) and print their sizes;
    returns the transformer's parameter count."""
    transformer, vae, text_encoder = build_full_models(torch.device("meta"))
    counts = {
        "transformer (WanTransformer3DModel)": count_parameters(transformer),
        "VAE (AutoencoderKLWan)": count_parameters(vae),
        "text encoder (UMT5EncoderModel, umt5-xxl)": count_parameters(text_encoder),
    }
    for name, count in counts.items():
        print(f"{name:44s} {count / 1e9:6.3f} B parameters")
    print(f"{'total':44s} {sum(counts.values()) / 1e9:6.3f} B parameters")
    return counts["transformer (WanTransformer3DModel)"]


PLANS_SECTION = "## Wan memory plans (estimates)"
CARDS_GIB = (16, 24, 48, 80)


def plans_body() -> str:
    """Each memory plan's estimated peak for the full workload (engine/backends/wan/memory.py, from
    the parameter counts above), and the plan ``auto`` picks on a card of each size with all its
    memory free. Estimates, not measurements: a GPU run of this bench measures the real peaks."""
    spec = FULL.spec()
    rows = [[plan, f"{estimate(plan, WAN22_TI2V_5B, spec) / 2**30:.1f} GiB"] for plan in PLANS]
    picks = [[f"{gib} GB", *choose(gib * 10**9, WAN22_TI2V_5B, spec)] for gib in CARDS_GIB]
    return "\n".join(
        [
            "",
            "Command: `python bench/gpu_wan.py --meta --out docs/perf.md` (no GPU needed). Workload: "
            f"{spec.width}x{spec.height}, {spec.frames} frames ({spec.model_frames} for the model), "
            f"guidance {spec.guidance:g}, batch 1. Weights as loaded: text encoder "
            f"{WAN22_TI2V_5B.text_encoder / 2**30:.1f} GiB (bf16), transformer "
            f"{WAN22_TI2V_5B.transformer / 2**30:.1f} GiB (bf16), VAE {WAN22_TI2V_5B.vae / 2**30:.1f} GiB "
            "(fp32). Activations are coarse constants (memory.py) until a GPU run measures each plan.",
            "",
            markdown_table(["plan (fastest first)", "estimated peak"], rows),
            "",
            markdown_table(["card", "auto picks", "why"], picks),
            "",
        ]
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5, help="timed runs per row (default 5)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs per row first (default 2)")
    parser.add_argument(
        "--steps", type=int, help=f"denoising steps (default {FULL.steps}; {TINY.steps} with --tiny)"
    )
    parser.add_argument(
        "--only",
        help=f"comma-separated rows to run (baseline always runs); from: {', '.join(VARIANT_NAMES)}",
    )
    parser.add_argument("--model", type=Path, help="local Wan2.2-TI2V-5B folder in the diffusers layout")
    parser.add_argument("--out", type=Path, help=f"markdown file whose {SECTION!r} section is replaced")
    parser.add_argument("--calibrate-mag", action="store_true", help="calibrate MagCache and add its row")
    parser.add_argument("--tiny", action="store_true", help="tiny CPU pipeline: smoke-test the harness")
    parser.add_argument("--meta", action="store_true", help="print full-size parameter counts and exit")
    args = parser.parse_args()
    if args.runs < 1 or args.warmup < 0:
        parser.error("--runs must be at least 1 and --warmup at least 0")
    if args.model is not None and not (args.model / "model_index.json").is_file():
        parser.error(f"--model {args.model} is not a diffusers model folder (no model_index.json)")
    if args.tiny and args.model is not None:
        parser.error("--tiny and --model exclude each other")
    if not (args.tiny or args.meta) and not torch.cuda.is_available():
        parser.error("no CUDA device here: use --tiny to smoke-test the harness or --meta for the shapes")
    if args.only:
        wanted = {name.strip() for name in args.only.split(",") if name.strip()}
        unknown = wanted - set(VARIANT_NAMES)
        if unknown:
            parser.error(f"unknown rows {sorted(unknown)}; choose from {', '.join(VARIANT_NAMES)}")
        args.only = wanted | {"baseline"}
    return args


def selected_variants(args: argparse.Namespace) -> list[Variant]:
    """The rows to run, in the fixed order (compiled last)."""
    chosen = []
    for variant in VARIANTS:
        if args.only is not None and variant.name not in args.only:
            continue
        if variant.name == NEEDS_MAG_RATIOS and not args.calibrate_mag:
            continue
        if args.tiny and args.only is None and variant.settings.get("compile_blocks"):
            continue  # inductor on a 2-core CPU takes minutes; ask for it with --only compiled
        chosen.append(variant)
    return chosen


def main() -> None:
    args = parse_args()
    if args.meta:
        full_ideal = ideal_seconds(print_meta_counts(), FULL.spec())
        print(f"compute-bound ideal on one H100 for the default workload: {full_ideal:.2f} s")
        publish(PLANS_SECTION, plans_body(), args.out)
        return

    workload = TINY if args.tiny else FULL
    if args.steps is not None:
        workload = Workload(workload.width, workload.height, workload.frames, args.steps, workload.guidance)
    machine = f"{gpu_line()}; host {machine_description()}" if not args.tiny else machine_description()
    backend, weights = load_backend(args)
    backend.embeddings.max_entries = 0  # every row times text encoding; one row times the cache
    transformer_params = count_parameters(backend.pipeline.transformer)
    ideal = None if args.tiny else ideal_seconds(transformer_params, workload.spec())
    ideal_text = "n/a for the tiny model" if ideal is None else f"{ideal:.2f} s"
    print(f"weights: {weights}; transformer {transformer_params / 1e9:.3f} B parameters", flush=True)
    print(
        f"targets on one H100: <= {TARGET_S:g} s per clip at {FULL.steps} steps with guidance "
        f"(compute-bound ideal {ideal_text} for this workload), <= {TARGET_FAST_S:g} s with a cache hook "
        "or a distilled few-step variant",
        flush=True,
    )

    args.mag_ratios = None
    if args.calibrate_mag:
        args.mag_ratios = calibrate_mag(backend, workload)
        print(f"MagCache ratios ({len(args.mag_ratios)} steps): {args.mag_ratios}", flush=True)
        print(f"  set engine.wan.mag_ratios = {args.mag_ratios}", flush=True)

    results = []
    for variant in selected_variants(args):
        print(f"-- {variant.name}: {variant.what}", flush=True)
        result = run_row(backend, variant, workload, args.runs, args.warmup, args.mag_ratios)
        if result.skipped:
            print(f"   skipped: {result.skipped}", flush=True)
        else:
            print(f"   median {seconds(Stats.of(result.totals).median)} per clip", flush=True)
        results.append(result)

    body = section_body(results, args, workload, weights, machine, ideal)
    if args.tiny:
        print("\n(tiny CPU pipeline: a smoke test of the harness, not a GPU result; never written)\n")
    publish(SECTION, body, None if args.tiny else args.out)
    backend.close()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
