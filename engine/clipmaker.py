"""ClipMaker: the two steps a clip takes after its spec, rendering and encoding.

The in-process executor (which the distributed worker renders through too) calls them separately,
so that frames are inspected in between and a clip that may not be posted is never encoded or kept.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from reactclip.engine.backends.base import Backend, ProgressCallback, RenderedFrames
from reactclip.engine.clip import Clip
from reactclip.engine.encode import DISCORD_UPLOAD_LIMIT, encode_frames
from reactclip.engine.spec import GenerationSpec

Inspector = Callable[[np.ndarray], dict[str, Any]]
"""Looks at a clip's frames before they are encoded (the frame check); its findings go on the Clip."""


class ClipMaker:
    """Renders with one backend and encodes under the upload limit, after the optional inspector
    has seen the frames."""

    def __init__(
        self,
        backend: Backend,
        upload_limit_bytes: int = DISCORD_UPLOAD_LIMIT,
        inspect: Inspector | None = None,
    ) -> None:
        self.backend = backend
        self.upload_limit_bytes = upload_limit_bytes
        self.inspect = inspect

    def make(self, spec: GenerationSpec, on_progress: ProgressCallback | None = None) -> Clip:
        """Render and encode one spec, with no check in between (benchmarks, tools)."""
        [rendered] = self.render([spec], on_progress)
        return self.encode(spec, rendered)

    def render(
        self, specs: Sequence[GenerationSpec], on_progress: ProgressCallback | None = None
    ) -> list[RenderedFrames]:
        """Frames only: the caller checks them (moderation) before anything is encoded or kept."""
        return self.backend.generate(specs, on_progress)

    def encode(self, spec: GenerationSpec, rendered: RenderedFrames) -> Clip:
        inspection = self.inspect(rendered.frames) if self.inspect is not None else {}
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
            inspection=inspection,
        )

    def close(self) -> None:
        self.backend.close()
