"""What both benchmarks share: timing statistics, markdown tables, the machine and version lines,
and replacing one section of docs/perf.md without touching the others.

The scripts import it as ``_report`` (Python puts a script's own folder first on ``sys.path``).
"""

from __future__ import annotations

import datetime
import os
import platform
import shlex
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PERF_DOC = ROOT / "docs" / "perf.md"


@dataclass(frozen=True)
class Stats:
    """Seconds over N runs. p90 is the nearest-rank 90th percentile, so with 10 runs it is the
    second-slowest: one hiccup on a shared machine does not move it, two do."""

    median: float
    p90: float
    mean: float
    runs: int

    @classmethod
    def of(cls, samples: Sequence[float]) -> Stats:
        if not samples:
            raise ValueError("no samples to summarise")
        ordered = sorted(samples)
        rank = max(1, -(-len(ordered) * 9 // 10))  # ceil(0.9 n), nearest-rank
        return cls(
            median=statistics.median(ordered),
            p90=ordered[rank - 1],
            mean=statistics.fmean(ordered),
            runs=len(ordered),
        )


def seconds(value: float) -> str:
    """Seconds with three significant figures, in ms below one second: ``812 ms``, ``2.41 s``."""
    if value < 1.0:
        return f"{value * 1000:.3g} ms"
    return f"{value:.3g} s"


def ratio(value: float, reference: float) -> str:
    """``1.83x``; small ratios keep three significant figures (``0.00181x``) instead of reading 0."""
    if reference <= 0:
        return "-"
    value = value / reference
    return f"{value:.2f}x" if value >= 0.1 else f"{value:.3g}x"


def size_text(n_bytes: int) -> str:
    if n_bytes >= 1024 * 1024:
        return f"{n_bytes / 1024 / 1024:.2f} MiB"
    return f"{n_bytes / 1024:.0f} KiB"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub markdown table; the first column is left-aligned, the others right-aligned."""
    align = [":--"] + ["--:"] * (len(headers) - 1)
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def publish(heading: str, body: str, out: Path | None) -> None:
    """Print a results section, and write it into ``out`` (docs/perf.md) unless that is None."""
    print(heading)
    print(body)
    if out is not None:
        replace_section(out, heading, body)
        print(f"\nwrote {heading!r} to {out}")


def replace_section(path: Path, heading: str, body: str) -> None:
    """Put ``heading`` + ``body`` in place of the level-2 section with that heading, or at the end
    when there is none; everything else in the file is kept as it is."""
    heading = heading.strip()
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    lines = text.splitlines()
    section = [heading, "", *body.strip("\n").splitlines(), ""]
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == heading)
    except StopIteration:
        while lines and not lines[-1].strip():
            lines.pop()
        lines = [*lines, "", *section] if lines else section
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
            len(lines),
        )
        lines[start:end] = section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")


def pin_one_core(core: int | None = None) -> str:
    """Pin this process (and the processes it starts) to one core where the OS allows it, and ask
    the usual thread pools for one thread. Call it before importing anything that starts a pool.
    Returns how it went, for the results."""
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "RAYON_NUM_THREADS"):
        os.environ[name] = "1"
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity here)"
    usable = sorted(os.sched_getaffinity(0))
    chosen = core if core is not None else usable[-1]
    os.sched_setaffinity(0, {chosen})
    return f"pinned to core {chosen}"


def command_line() -> str:
    """How this script was run, as someone would type it from the repository root."""
    script = Path(sys.argv[0]).resolve()
    try:
        shown = str(script.relative_to(ROOT))
    except ValueError:
        shown = sys.argv[0]
    return shlex.join(["python", shown, *sys.argv[1:]])


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_description() -> str:
    """CPU model, core count, memory, OS, and the load when the run started (other processes share
    the cores and inflate the numbers)."""
    cores = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    parts = [f"{cpu_model()}, {cores} logical cores ({usable} usable by this process)"]
    memory = _memory_gib()
    if memory:
        parts.append(f"{memory:.0f} GiB RAM")
    parts.append(f"{platform.system()} {platform.release()}")
    if hasattr(os, "getloadavg"):
        load = os.getloadavg()
        parts.append(f"load average at start {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}")
    return "; ".join(parts)


def _memory_gib() -> float | None:
    try:
        with open("/proc/meminfo", encoding="utf-8") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 1024 / 1024
    except (OSError, ValueError):
        pass
    return None


def versions(packages: Sequence[str]) -> str:
    """``Python 3.11.9, torch 2.13.0, ...`` for the packages that are installed."""
    found = [f"Python {platform.python_version()}"]
    for name in packages:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return ", ".join(found)


def today() -> str:
    return datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")


def provenance(machine: str, packages: Sequence[str]) -> str:
    """The lines every results section starts with: command, machine, versions, date."""
    return "\n".join(
        [
            f"- Command: `{command_line()}`",
            f"- Machine: {machine}",
            f"- Versions: {versions(packages)}",
            f"- Date: {today()}",
        ]
    )
