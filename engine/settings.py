"""Engine settings: one typed section of reactclip's settings object.

The engine never reads the environment itself; the bot's ``Settings`` (environment variables with a
``REACTCLIP_`` prefix and an optional TOML file) builds this and hands it down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from platformdirs import user_cache_path
from pydantic import BaseModel, Field

from reactclip.engine.encode import DISCORD_UPLOAD_LIMIT
from reactclip.engine.executor.settings import ExecutorSettings

DEFAULT_WAN_MODEL = "Wan-AI/Wan2.2-TI2V-5B-Diffusers"

BackendName = Literal["auto", "wan", "tiny", "sticker", "cost-model"]
CacheHook = Literal["none", "first_block", "mag", "taylorseer"]
MemoryPlanSetting = Literal["auto", "full", "text-encoder-offload", "model-offload", "group-offload"]
"""backends/wan/memory.py's plans, or auto."""


class WanSettings(BaseModel):
    """How the real Wan2.2 pipeline is loaded and run. Every speed-up is off until a benchmark
    (bench/gpu_wan.py) shows it pays on the target GPU."""

    model: str = Field(DEFAULT_WAN_MODEL, description="Hub id or local folder in the diffusers layout")
    revision: str | None = Field(None, description="Hub revision (branch, tag or commit)")
    allow_download: bool = Field(
        True, description="Let the `wan` backend download missing weights; `auto` never downloads"
    )
    device: Literal["auto", "cuda", "cpu"] = Field(
        "auto", description="auto = CUDA or refuse; cpu only for debugging (minutes per clip)"
    )
    dtype: Literal["bfloat16", "float16"] = "bfloat16"
    memory_plan: MemoryPlanSetting = Field(
        "auto",
        description="Where the models live (backends/wan/memory.py); auto = the fastest that fits the "
        "GPU's free memory, with memory_margin to spare",
    )
    memory_margin: float = Field(
        0.1, ge=0, lt=1, description="The share of free GPU memory auto leaves unused"
    )
    scheduler: Literal["unipc", "dpm"] = Field(
        "unipc", description="unipc = what the model ships; dpm = DPM-Solver++ multistep on flow sigmas"
    )
    flow_shift: float = Field(5.0, gt=0, description="Flow-matching shift; the model ships 5.0")
    max_sequence_length: int = Field(226, ge=16, le=512, description="Text tokens per prompt")
    timesteps: list[int] | None = Field(
        None,
        description="A step-distilled model's fixed schedule (e.g. [1000, 757, 522]): it replaces the "
        "scheduler, and guidance is off; the spec's steps and guidance are then not used",
    )
    prompt_cache_entries: int = Field(
        256,
        ge=0,
        description="Text embeddings kept in host memory (about 1.85 MB each); 0 turns the cache off",
    )
    cache_hook: CacheHook = "none"
    cache_threshold: float = Field(0.05, gt=0, description="FirstBlockCache / MagCache threshold")
    mag_ratios: list[float] | None = Field(None, description="Calibrated MagCache ratios (one per step)")
    compile_blocks: bool = Field(False, description="torch.compile the repeated transformer blocks")
    vae_tiling: bool = False
    vae_slicing: bool = False
    attention_backend: str | None = Field(None, description="diffusers attention backend, e.g. flash")


class CostModelSettings(BaseModel):
    """The ``cost-model`` backend (benchmarks and fault drills): a GPU's timing without a GPU."""

    scale: float = Field(1.0, gt=0, description="x the field report's 3 s a clip (1 s a call + 2 s a clip)")


class PromptingSettings(BaseModel):
    """How a message becomes a prompt."""

    templates: Path | None = Field(None, description="An operator's copy of engine/prompting/templates.toml")
    emotion_classifier_dir: Path | None = Field(
        None, description="A local transformers emotion classifier used instead of the shipped one"
    )
    mascot: str | None = Field(None, description="The subject when a message names none")
    style: str = "cartoon"


class CacheSettings(BaseModel):
    """Where finished clips are kept, keyed by everything that determines their pixels."""

    store: Literal["local", "redis", "none"] = Field(
        "local", description="local = SQLite index + files on this machine; redis = shared by every process"
    )
    dir: Path = Field(
        default_factory=lambda: user_cache_path("reactclip") / "clips", description="The local store's folder"
    )
    max_bytes: int = Field(2 * 1024**3, ge=1024 * 1024, description="The local store's size cap (LRU)")
    ttl_s: int = Field(7 * 24 * 3600, ge=1, description="How long a clip stays in the Redis store")


class DistributedSettings(BaseModel):
    """The distributed executor: bot shards enqueue on Redis, ``reactclip worker`` processes on GPU
    hosts render. Off by default (the embedded executor runs in the bot's own process)."""

    enabled: bool = False
    queue_name: str = "reactclip:jobs"
    lease_s: float = Field(
        10.0,
        gt=0,
        description="A worker renews its claim on a running job this often x3; a killed worker's job "
        "starts again on another worker within about this",
    )
    poll_s: float = Field(
        0.1,
        gt=0,
        description="How often an idle worker looks for a job (arq's own default, 0.5 s, adds up to "
        "half a second to every interactive clip)",
    )
    heartbeat_s: float = Field(
        5.0, gt=0, description="How often workers say they are alive; silent for 3 of these = lost (alert)"
    )
    stop_grace_s: int = Field(
        30,
        ge=0,
        description="On SIGTERM a worker takes no new job and finishes its own for this long, "
        "then hands the rest back to the queue",
    )


class EngineSettings(BaseModel):
    backend: BackendName = "auto"
    redis_url: str = Field(
        "redis://127.0.0.1:6379/0",
        description="The Redis of the shared clip store (cache.store = redis) and of the distributed queue",
    )
    variant_models: dict[str, str] = Field(
        default_factory=dict,
        description="A/B variants (executor.variants) by name -> Wan weights (folder or hub id)",
    )
    variant_timesteps: dict[str, list[int]] = Field(
        default_factory=dict,
        description="A/B variants that are step-distilled, by name -> their fixed schedule (wan.timesteps)",
    )
    executor: ExecutorSettings = Field(default_factory=ExecutorSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    distributed: DistributedSettings = Field(default_factory=DistributedSettings)
    prompting: PromptingSettings = Field(default_factory=PromptingSettings)
    wan: WanSettings = Field(default_factory=WanSettings)
    cost_model: CostModelSettings = Field(default_factory=CostModelSettings)
    upload_limit_bytes: int = Field(DISCORD_UPLOAD_LIMIT, ge=64 * 1024)
    output_dir: Path = Path("out")
