"""Clip: an encoded reaction clip and everything a caller needs to know about how it was made."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from reactclip.engine.spec import GenerationSpec, OutputFormat


@dataclass
class StageTimings:
    """Seconds spent in each stage; a stage that did not run stays 0."""

    queued: float = 0.0
    text_encoding: float = 0.0
    denoising: float = 0.0
    decoding: float = 0.0
    rendering: float = 0.0
    """Frame drawing for renderers that have no diffusion stages (the sticker)."""
    encoding: float = 0.0
    prompts_cached: int = 0
    """Texts (prompts and negative prompts) whose embeddings came from the backend's cache, so the
    text encoder did not run for them; a count, not seconds, and not part of ``total``."""

    @property
    def total(self) -> float:
        return (
            self.queued + self.text_encoding + self.denoising + self.decoding + self.rendering + self.encoding
        )


@dataclass
class Clip:
    """Encoded bytes plus their provenance.

    ``frames``, ``width``, ``height`` and ``fps`` describe what was encoded, which may differ from the
    spec when the encoder had to lower the frame rate to fit the upload limit (``encode_notes`` says so).
    """

    data: bytes
    format: OutputFormat
    frames: int
    width: int
    height: int
    fps: float
    spec: GenerationSpec
    backend: str
    variant: str
    timings: StageTimings = field(default_factory=StageTimings)
    encode_notes: list[str] = field(default_factory=list)
    peak_gpu_memory_bytes: int | None = None
    cache_hit: bool = False
    degraded: bool = False
    inspection: dict[str, Any] = field(default_factory=dict)
    """What a frame inspector found in the frames (e.g. detector labels and scores), recorded once
    per clip so each request's own policy can judge it, also on a cache hit."""

    @property
    def duration_s(self) -> float:
        return self.frames / self.fps

    @property
    def size_bytes(self) -> int:
        return len(self.data)

    @property
    def filename(self) -> str:
        return f"reactclip-{self.spec.seed:08x}.{self.format.value}"

    def write(self, path: Path) -> Path:
        """Write the bytes, creating parent folders; returns the path written."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.data)
        return path

    def metadata(self) -> dict[str, Any]:
        """JSON-ready description (everything but the bytes)."""
        timings = asdict(self.timings) | {"total": self.timings.total}
        return {
            "format": self.format.value,
            "bytes": self.size_bytes,
            "width": self.width,
            "height": self.height,
            "frames": self.frames,
            "fps": self.fps,
            "duration_s": round(self.duration_s, 3),
            "backend": self.backend,
            "variant": self.variant,
            "seed": self.spec.seed,
            "cache_hit": self.cache_hit,
            "degraded": self.degraded,
            "encode_notes": self.encode_notes,
            "peak_gpu_memory_bytes": self.peak_gpu_memory_bytes,
            "timings": {k: round(v, 4) for k, v in timings.items()},
            "spec": self.spec.to_dict(),
        }

    def to_record(self) -> tuple[dict[str, Any], bytes]:
        """Split into JSON-ready fields and the encoded bytes, so a cache can store them apart.

        ``cache_hit`` is left out: it describes one answer, not the clip.
        """
        meta: dict[str, Any] = {
            "format": self.format.value,
            "frames": self.frames,
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "spec": self.spec.to_dict(),
            "backend": self.backend,
            "variant": self.variant,
            "timings": asdict(self.timings),
            "encode_notes": list(self.encode_notes),
            "peak_gpu_memory_bytes": self.peak_gpu_memory_bytes,
            "degraded": self.degraded,
            "inspection": self.inspection,
        }
        return meta, self.data

    @classmethod
    def from_record(cls, meta: dict[str, Any], data: bytes) -> Clip:
        """The Clip that ``to_record`` split; raises KeyError, TypeError or ValueError (SpecError
        included) for a record that does not describe one."""
        return cls(
            data=data,
            format=OutputFormat(meta["format"]),
            frames=int(meta["frames"]),
            width=int(meta["width"]),
            height=int(meta["height"]),
            fps=float(meta["fps"]),
            spec=GenerationSpec(**meta["spec"]),
            backend=str(meta["backend"]),
            variant=str(meta["variant"]),
            timings=StageTimings(**meta.get("timings", {})),
            encode_notes=list(meta.get("encode_notes", [])),
            peak_gpu_memory_bytes=meta.get("peak_gpu_memory_bytes"),
            degraded=bool(meta.get("degraded", False)),
            inspection=dict(meta.get("inspection", {})),
        )
