"""``reactclip doctor``: what will happen on this machine with these settings, before anyone asks
for a clip: the GPU (or none) and its free memory, the backend ``auto`` picks and why, whether the
Wan weights (and each A/B variant's) are here, the ffmpeg binary, the Vosk model, Redis where the
settings use it, whether a Discord token is set (never its value), and how long a clip takes here
where that can be measured at once (the sticker renderer: one real clip, timed).

Every finding is a ``Finding``: ok, a warning (works, but not as well as it could), or a problem
(something configured will fail). ``--json`` prints them for scripts; the exit code is 1 when there
is a problem.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any, Literal

import typer

from reactclip.bot.errors import reported
from reactclip.bot.settings import Settings

Level = Literal["ok", "warn", "problem"]
MARKS = {"ok": "ok     ", "warn": "warn   ", "problem": "PROBLEM"}
REDIS_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Finding:
    """One thing checked: its name, how it stands, a line for a person, and facts for scripts."""

    name: str
    level: Level
    summary: str
    facts: dict[str, Any] = field(default_factory=dict)


def examine(settings: Settings) -> list[Finding]:
    """Every check, in the order an operator reads them."""
    gpu = _gpu()
    backend = _backend(settings, gpu)
    return [
        gpu,
        backend,
        _memory_plan(settings, gpu),
        *_weights(settings, backend),
        _ffmpeg(),
        _vosk(settings),
        _redis(settings),
        _token(settings),
        _speed(settings, backend),
    ]


def _gpu() -> Finding:
    import torch

    if not torch.cuda.is_available():
        return Finding(
            "gpu", "warn", "no CUDA GPU is visible: clips are drawn by the sticker renderer", {"cuda": False}
        )
    free, total = torch.cuda.mem_get_info()
    name = torch.cuda.get_device_name()
    summary = f"{name}: {free / 2**30:.1f} GiB free of {total / 2**30:.1f} GiB"
    return Finding(
        "gpu", "ok", summary, {"cuda": True, "name": name, "free_bytes": free, "total_bytes": total}
    )


def _backend(settings: Settings, gpu: Finding) -> Finding:
    from reactclip.engine.backends import auto_choice

    configured = settings.engine.backend
    if configured == "auto":
        chosen, why = auto_choice(settings.engine)
        return Finding(
            "backend", "ok", f"auto picks {chosen}: {why}", {"configured": "auto", "backend": chosen}
        )
    if configured == "wan" and not gpu.facts.get("cuda") and settings.engine.wan.device != "cpu":
        return Finding(
            "backend",
            "problem",
            "wan is configured but no CUDA GPU is visible: every clip will fail",
            {"configured": configured, "backend": configured},
        )
    return Finding(
        "backend", "ok", f"{configured} (configured)", {"configured": configured, "backend": configured}
    )


def _memory_plan(settings: Settings, gpu: Finding) -> Finding:
    """The plan Wan would run under here (estimated from the full-size model, since the weights are
    not loaded to ask), or, with no GPU, what a 24 GB card would get."""
    from reactclip.engine.backends.wan.memory import WAN22_TI2V_5B, choose, estimate
    from reactclip.engine.spec import GenerationSpec

    spec, configured = GenerationSpec(prompt="reference"), settings.engine.wan.memory_plan
    if not gpu.facts.get("cuda"):
        plan, why = choose(24 * 2**30, WAN22_TI2V_5B, spec, margin=settings.engine.wan.memory_margin)
        return Finding(
            "memory plan", "ok", f"none without a GPU (a 24 GB card would get {plan}: {why})", {"plan": None}
        )
    if configured != "auto":
        needed = estimate(configured, WAN22_TI2V_5B, spec)
        fits = needed <= gpu.facts["free_bytes"]
        summary = f"{configured} (configured) needs about {needed / 2**30:.1f} GiB"
        return Finding(
            "memory plan", "ok" if fits else "problem", summary, {"plan": configured, "bytes": needed}
        )
    plan, why = choose(gpu.facts["free_bytes"], WAN22_TI2V_5B, spec, margin=settings.engine.wan.memory_margin)
    return Finding("memory plan", "ok", f"auto picks {plan}: {why}", {"plan": plan})


def _weights(settings: Settings, backend: Finding) -> list[Finding]:
    from reactclip.engine.backends.wan.loading import find_local_weights

    wan = settings.engine.wan
    models = {"default": wan.model, **settings.engine.variant_models}
    needed = backend.facts.get("backend") == "wan"
    findings = []
    for name, model in models.items():
        found = find_local_weights(wan.model_copy(update={"model": model}))
        what = "the Wan weights" if name == "default" else f"variant {name}'s weights"
        if found is not None:
            findings.append(
                Finding(
                    f"weights:{name}", "ok", f"{what} are at {found}", {"model": model, "path": str(found)}
                )
            )
        else:
            level: Level = "problem" if needed else "warn"
            summary = f"{what} ({model}) are not on this machine"
            findings.append(Finding(f"weights:{name}", level, summary, {"model": model, "path": None}))
    return findings


def _ffmpeg() -> Finding:
    import imageio_ffmpeg

    try:
        binary = imageio_ffmpeg.get_ffmpeg_exe()
        version = subprocess.run([binary, "-version"], capture_output=True, text=True, timeout=10, check=True)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        return Finding("ffmpeg", "problem", f"no usable ffmpeg: {exc}", {"path": None})
    first = version.stdout.splitlines()[0].split(" Copyright")[0] if version.stdout else "ffmpeg"
    return Finding("ffmpeg", "ok", f"{first} at {binary}", {"path": binary, "version": first})


def _vosk(settings: Settings) -> Finding:
    from reactclip.speech.models import is_model_dir

    path = settings.speech.vosk_model
    if is_model_dir(path):
        return Finding("vosk", "ok", f"the Vosk model is at {path}", {"path": str(path)})
    summary = f"no Vosk model at {path}: voice requests will be refused (reactclip models vosk)"
    return Finding("vosk", "warn", summary, {"path": str(path)})


def _redis(settings: Settings) -> Finding:
    engine = settings.engine
    uses = [
        what
        for what, on in (
            ("the queue", engine.distributed.enabled),
            ("the clip store", engine.cache.store == "redis"),
        )
        if on
    ]
    if not uses:
        return Finding("redis", "ok", "not used (embedded executor, local clip store)", {"used": False})
    import redis

    client = redis.Redis.from_url(
        engine.redis_url, socket_connect_timeout=REDIS_TIMEOUT_S, socket_timeout=REDIS_TIMEOUT_S
    )
    where = " and ".join(uses)
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        return Finding(
            "redis",
            "problem",
            f"{where} need Redis, which does not answer ({type(exc).__name__})",
            {"used": True, "reachable": False},
        )
    finally:
        client.close()
    return Finding("redis", "ok", f"{where}: Redis answers", {"used": True, "reachable": True})


def _token(settings: Settings) -> Finding:
    token = settings.discord.token
    if token is not None and token.get_secret_value().strip():
        return Finding("discord token", "ok", "set (reactclip run can log in)", {"present": True})
    summary = "not set: reactclip run needs REACTCLIP_DISCORD__TOKEN (the CLI works without)"
    return Finding("discord token", "warn", summary, {"present": False})


def _speed(settings: Settings, backend: Finding) -> Finding:
    """The sticker renderer is timed on one real clip; a GPU model's speed needs its benchmark."""
    if backend.facts.get("backend") != "sticker":
        summary = "no measurement here: python bench/gpu_wan.py times this GPU (docs/perf.md)"
        return Finding("speed", "ok", summary, {"seconds_per_clip": None})
    from reactclip.engine.backends.sticker import StickerBackend
    from reactclip.engine.clipmaker import ClipMaker
    from reactclip.engine.spec import GenerationSpec

    maker = ClipMaker(StickerBackend(), settings.engine.upload_limit_bytes)
    start = time.perf_counter()
    maker.make(GenerationSpec(prompt="doctor", caption="doctor"))
    seconds = time.perf_counter() - start
    return Finding(
        "speed",
        "ok",
        f"the sticker renderer made a 480p clip in {seconds:.2f} s here",
        {"seconds_per_clip": round(seconds, 3)},
    )


def doctor(
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON")] = False,
) -> None:
    """Say what will happen here: GPU, backend, weights, ffmpeg, Vosk, Redis, token, speed."""
    with reported():
        findings = examine(Settings())
    if as_json:
        typer.echo(json.dumps([asdict(finding) for finding in findings], indent=2))
    else:
        for finding in findings:
            typer.echo(f"{MARKS[finding.level]}  {finding.name:<16} {finding.summary}")
    raise typer.Exit(1 if any(finding.level == "problem" for finding in findings) else 0)
