"""Everything a clip costs on the CPU except denoising, per clip.

Rows: building the spec from a message, drawing the sticker frames, encoding 16 frames to MP4, GIF
and WebP at the three 480p presets, the sticker clip end to end through ClipMaker, and the tiny
random-weight Wan pipeline (320x240, 8 frames, 4 steps) as a reference for the model code path.
All rows run in one process, one after another, so they share the machine's state.

    python bench/cpu_path.py --runs 10            # writes the "## CPU path" section of docs/perf.md
    python bench/cpu_path.py --runs 3 --no-write  # prints the table only
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from _report import (
    PERF_DOC,
    Stats,
    machine_description,
    markdown_table,
    provenance,
    publish,
    ratio,
    seconds,
    size_text,
)

from reactclip.engine.backends.sticker import StickerBackend
from reactclip.engine.backends.wan import tiny_backend
from reactclip.engine.clipmaker import ClipMaker
from reactclip.engine.encode import encode_frames
from reactclip.engine.prompting import spec_from_text
from reactclip.engine.spec import GenerationSpec, OutputFormat

SECTION = "## CPU path"
MESSAGE = "omg the build finally passed after three days!!! 🎉"
SIZES: tuple[tuple[int, int], ...] = ((832, 480), (480, 832), (480, 480))
FRAMES = 16
PACKAGES = ("torch", "diffusers", "transformers", "numpy", "pillow", "imageio-ffmpeg", "reactclip")


@dataclass
class Row:
    """One measured thing. ``run`` does the work once and returns the output size in bytes (or
    None); ``reference`` names the row its ratio is taken against."""

    name: str
    size: str
    run: Callable[[], int | None]
    reference: str
    samples: list[float]
    output_bytes: int | None = None


def mp4_row_name(size: str) -> str:
    return f"encode mp4 {size}"


def build_rows() -> list[Row]:
    sticker = StickerBackend()
    landscape = f"{SIZES[0][0]}x{SIZES[0][1]}"
    rows: list[Row] = [
        Row("spec_from_text", "-", lambda: _none(spec_from_text(MESSAGE)), mp4_row_name(landscape), [])
    ]
    for width, height in SIZES:
        size = f"{width}x{height}"
        spec = spec_from_text(MESSAGE, width=width, height=height, frames=FRAMES)
        # The encoders get the sticker's own frames: flat colours and outlines, what this path ships.
        frames = sticker.generate([spec])[0].frames
        rows.append(Row(f"sticker render {size}", size, _render(sticker, spec), mp4_row_name(size), []))
        for fmt in OutputFormat:
            rows.append(
                Row(
                    f"encode {fmt.value} {size}", size, _encode(frames, spec.fps, fmt), mp4_row_name(size), []
                )
            )
    maker = ClipMaker(sticker)
    rows.append(
        Row(
            "sticker clip end to end (spec + render + mp4)",
            landscape,
            lambda: len(maker.make(spec_from_text(MESSAGE)).data),
            mp4_row_name(landscape),
            [],
        )
    )
    wan = tiny_backend()
    tiny_spec = spec_from_text(MESSAGE, width=320, height=240, frames=8, steps=4)
    rows.append(
        Row(
            "tiny Wan pipeline 320x240, 8 frames, 4 steps",
            "320x240",
            lambda: _none(wan.generate([tiny_spec])),
            mp4_row_name(landscape),
            [],
        )
    )
    return rows


def _none(_: object) -> None:
    return None


def _render(backend: StickerBackend, spec: GenerationSpec) -> Callable[[], None]:
    return lambda: _none(backend.generate([spec]))


def _encode(frames: np.ndarray, fps: float, fmt: OutputFormat) -> Callable[[], int]:
    return lambda: encode_frames(frames, fps, fmt).size_bytes


def measure(rows: list[Row], runs: int, warmup: int) -> None:
    """Warm every row up, then take the runs round-robin, so a burst of load from another process
    spreads over all rows instead of landing on one."""
    for row in rows:
        for _ in range(warmup):
            row.run()
    for _ in range(runs):
        for row in rows:
            start = time.perf_counter()
            row.output_bytes = row.run()
            row.samples.append(time.perf_counter() - start)


def table(rows: list[Row]) -> str:
    medians = {row.name: Stats.of(row.samples).median for row in rows}
    lines = []
    for row in rows:
        stats = Stats.of(row.samples)
        lines.append(
            [
                row.name,
                seconds(stats.median),
                seconds(stats.p90),
                ratio(stats.median, medians[row.reference]),
                size_text(row.output_bytes) if row.output_bytes is not None else "-",
            ]
        )
    return markdown_table(["Row", "Median", "p90", "vs MP4 encode", "Output"], lines)


def section(rows: list[Row], runs: int, warmup: int, machine: str) -> str:
    return "\n".join(
        [
            provenance(machine, PACKAGES),
            "",
            f"Per clip, {runs} timed runs after {warmup} warm-up run(s) per row, rows interleaved. "
            f"Clips are {FRAMES} frames at 12 fps drawn by the sticker renderer for the message "
            f'"{MESSAGE}". "vs MP4 encode" divides each median by the MP4 encode median at the same '
            "size (832x480 for rows without one). Encodes go through `encode_frames` with the "
            "default 10 MiB upload limit, so each is one ffmpeg run when the first rung fits.",
            "",
            table(rows),
            "",
            "The machine is a small shared VM: other processes (builds, tests of other sessions) may "
            "have run on the same cores during the measurement, which shows as a p90 well above the "
            "median. Treat differences under about 20% as noise.",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10, help="timed runs per row (default 10)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs per row first (default 1)")
    parser.add_argument("--out", type=Path, default=PERF_DOC, help="markdown file to update")
    parser.add_argument("--no-write", action="store_true", help="print the table, leave --out alone")
    args = parser.parse_args()
    if args.runs < 1 or args.warmup < 0:
        parser.error("--runs must be at least 1 and --warmup at least 0")

    machine = machine_description()  # before the work, so the load average is the background's
    rows = build_rows()
    measure(rows, args.runs, args.warmup)
    body = section(rows, args.runs, args.warmup, machine)
    publish(SECTION, body, None if args.no_write else args.out)


if __name__ == "__main__":
    main()
