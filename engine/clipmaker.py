"""ClipMaker: one spec through a backend and the encoder to a Clip.

This is the in-process path for a single request; the executor issue puts a queue, batching and
failover in front of the same two steps.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

from reactclip.engine.backends.base import Backend, ProgressCallback, RenderedFrames
from reactclip.engine.clip import Clip
from reactclip.engine.encode import DISCORD_UPLOAD_LIMIT, encode_frames
from reactclip.engine.spec import GenerationSpec


class ClipMaker:
    """Renders with one backend and encodes under the upload limit."""

    def __init__(self, backend: Backend, upload_limit_bytes: int = DISCORD_UPLOAD_LIMIT) -> None:
        self.backend = backend
        self.upload_limit_bytes = upload_limit_bytes

    def make(self, spec: GenerationSpec, on_progress: ProgressCallback | None = None) -> Clip:
        return self.make_batch([spec], on_progress)[0]

    def make_batch(
        self, specs: Sequence[GenerationSpec], on_progress: ProgressCallback | None = None
    ) -> list[Clip]:
        """Render a compatible batch in one backend call, then encode each clip."""
        rendered = self.render(specs, on_progress)
        return [self.encode(spec, frames) for spec, frames in zip(specs, rendered, strict=True)]

    def render(
        self, specs: Sequence[GenerationSpec], on_progress: ProgressCallback | None = None
    ) -> list[RenderedFrames]:
        """Frames only: the caller checks them (moderation) before anything is encoded or kept."""
        return self.backend.generate(specs, on_progress)

    def encode(self, spec: GenerationSpec, rendered: RenderedFrames) -> Clip:
        start = time.perf_counter()
        video = encode_frames(rendered.frames, spec.fps, spec.format, self.upload_limit_bytes)
        # A batch shares one StageTimings; each clip gets its own copy with its encoding time.
        timings = dataclasses.replace(rendered.timings, encoding=time.perf_counter() - start)
        return Clip(
            data=video.data,
            format=video.format,
            frames=video.frames,
            width=video.width,
            height=video.height,
            fps=video.fps,
            spec=spec,
            backend=self.backend.name,
            variant=self.backend.variant,
            timings=timings,
            encode_notes=list(video.notes),
            peak_gpu_memory_bytes=rendered.peak_gpu_memory_bytes,
        )

    def close(self) -> None:
        self.backend.close()
