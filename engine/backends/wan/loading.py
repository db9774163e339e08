"""Finding, loading and configuring a Wan2.2 pipeline: everything that happens once per worker."""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from diffusers import AutoencoderKLWan, DPMSolverMultistepScheduler, UniPCMultistepScheduler, WanPipeline

from reactclip.engine.backends.base import BackendError
from reactclip.engine.settings import WanSettings

log = logging.getLogger(__name__)

DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16}


def resolve_device(settings: WanSettings) -> torch.device:
    """CUDA when asked for (or auto and present); CPU only when asked for explicitly."""
    if settings.device == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise BackendError(
            "the wan backend needs a CUDA GPU and none is visible here; use --backend sticker, "
            "or set REACTCLIP_ENGINE__WAN__DEVICE=cpu to debug (minutes per clip)"
        )
    return torch.device("cuda")


def find_local_weights(settings: WanSettings) -> Path | None:
    """The folder holding the weights if they are already on this machine (never downloads)."""
    candidate = Path(settings.model).expanduser()
    if candidate.is_dir():
        return candidate if (candidate / "model_index.json").is_file() else None
    if candidate.is_absolute() or settings.model.startswith("."):
        return None
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(settings.model, revision=settings.revision, local_files_only=True))
    except Exception:  # not in the hub cache (or not a valid id): absent here
        return None


def resolve_weights(settings: WanSettings) -> Path:
    """The local weights folder, downloading from the hub when that is allowed."""
    local = find_local_weights(settings)
    if local is not None:
        return local
    candidate = Path(settings.model).expanduser()
    if candidate.is_dir():
        raise BackendError(f"{settings.model} is not a diffusers model folder (no model_index.json)")
    if candidate.is_absolute() or settings.model.startswith(".") or settings.model.count("/") != 1:
        raise BackendError(f"no Wan weights at {settings.model}: pass --model with a local folder or hub id")
    if not settings.allow_download:
        raise BackendError(f"the weights of {settings.model} are not on this machine and downloads are off")
    from huggingface_hub import snapshot_download

    log.info("downloading %s (revision %s)", settings.model, settings.revision or "main")
    try:
        return Path(snapshot_download(settings.model, revision=settings.revision))
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BackendError(
            f"could not download {settings.model} ({reason[:160]}); put the weights in a folder "
            "and pass --model PATH"
        ) from exc


def make_scheduler(
    pipe: WanPipeline, settings: WanSettings
) -> UniPCMultistepScheduler | DPMSolverMultistepScheduler:
    """The scheduler the model ships (UniPC on flow sigmas) or DPM-Solver++ on the same sigmas,
    with the configured flow shift."""
    flow = {"prediction_type": "flow_prediction", "use_flow_sigmas": True, "flow_shift": settings.flow_shift}
    if settings.scheduler == "dpm":
        return DPMSolverMultistepScheduler.from_config(
            pipe.scheduler.config, algorithm_type="dpmsolver++", solver_order=2, **flow
        )
    return UniPCMultistepScheduler.from_config(pipe.scheduler.config, **flow)


def load_pipeline(settings: WanSettings, device: torch.device) -> WanPipeline:
    """Load Wan2.2 the way its model card does: bf16 (or fp16) weights with the VAE kept in fp32."""
    path = resolve_weights(settings)
    dtype = DTYPES[settings.dtype] if device.type == "cuda" else torch.float32
    log.info("loading Wan from %s on %s in %s", path, device, dtype)
    try:
        vae = AutoencoderKLWan.from_pretrained(path, subfolder="vae", dtype=torch.float32)
        pipe = WanPipeline.from_pretrained(path, vae=vae, dtype=dtype)
    except (OSError, ValueError) as exc:
        raise BackendError(
            f"could not load Wan weights from {path}: {str(exc).splitlines()[0][:200]}"
        ) from exc
    pipe.scheduler = make_scheduler(pipe, settings)
    return pipe  # still on the CPU: the memory plan places it (memory.py)
