"""What the quality scripts share: running ``reactclip analyze --jsonl`` as a user would, rates with
their Wilson interval, and figures measured against a target.

The scripts import it as ``_scoring`` (Python puts a script's own folder first on ``sys.path``).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _report import markdown_table


def one_line(text: str) -> str:
    """The text as one stdin line: every line break a space (Python's text-mode stdin splits on
    \\n, \\r and \\r\\n)."""
    return text.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")


def reactclip_command() -> list[str]:
    """The console script installed next to this interpreter (the venv's), else the one on PATH."""
    script = Path(sys.executable).with_name("reactclip")
    if script.exists():
        return [str(script)]
    found = shutil.which("reactclip")
    if found:
        return [found]
    raise SystemExit(f"quality: no reactclip command next to {sys.executable} or on PATH; pip install -e .")


@dataclass(frozen=True)
class Run:
    nsfw_channel: bool
    results: list[dict[str, Any]]
    seconds: float
    command: str


def analyze(lines: Sequence[Any], nsfw_channel: bool) -> Run:
    """Every line (anything with ``id`` and ``text``) through ``reactclip analyze --jsonl``."""
    argv = [*reactclip_command(), "analyze", "--jsonl"]
    if nsfw_channel:
        argv.append("--nsfw-channel")
    stdin = "".join(one_line(line.text) + "\n" for line in lines)
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONUTF8": "1"}
    started = time.perf_counter()
    done = subprocess.run(
        argv, input=stdin, capture_output=True, text=True, encoding="utf-8", env=env, check=False
    )
    elapsed = time.perf_counter() - started
    shown = " ".join(["reactclip", *argv[1:]])
    if done.returncode != 0:
        raise SystemExit(f"quality: `{shown}` exited with {done.returncode}:\n{done.stderr.strip()[-4000:]}")
    results = [json.loads(out) for out in done.stdout.splitlines() if out.strip()]
    if len(results) != len(lines):
        raise SystemExit(
            f"quality: `{shown}` printed {len(results)} results for {len(lines)} lines; stderr:\n"
            f"{done.stderr.strip()[-4000:]}"
        )
    for line, result in zip(lines, results, strict=True):
        missing = {"emotion", "allowed", "category"} - result.keys()
        if missing:
            raise SystemExit(f"quality: the result for {line.id} lacks {', '.join(sorted(missing))}")
        echoed = result.get("text")
        if echoed is not None and echoed != one_line(line.text):
            raise SystemExit(f"quality: results are out of step with the input at {line.id}")
    return Run(nsfw_channel, results, elapsed, shown)


# Figures ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    hits: int
    total: int

    @property
    def value(self) -> float:
        return self.hits / self.total if self.total else float("nan")

    def text(self) -> str:
        if not self.total:
            return "- (0 lines)"
        return f"{self.value:.1%} ({self.hits}/{self.total})"

    def interval(self) -> str:
        """Wilson 95% interval: how far the true rate may be from this sample's."""
        if not self.total:
            return "-"
        z, n, p = 1.96, self.total, self.value
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return f"{max(0.0, centre - half):.1%} - {min(1.0, centre + half):.1%}"


def rate(flags: Sequence[bool]) -> Rate:
    return Rate(sum(flags), len(flags))


def blocked(result: dict[str, Any]) -> bool:
    return not result["allowed"]


@dataclass(frozen=True)
class Figure:
    name: str
    rate: Rate
    target: str
    met: bool | None
    """None: no target, shown for information."""


def at_least(name: str, value: Rate, target: float) -> Figure:
    shown = "100%" if target == 1.0 else f"≥ {target:.0%}"
    return Figure(name, value, shown, value.total > 0 and value.value >= target)


def at_most(name: str, value: Rate, target: float) -> Figure:
    return Figure(name, value, f"≤ {target:.0%}", value.total > 0 and value.value <= target)


def info(name: str, value: Rate, note: str = "-") -> Figure:
    return Figure(name, value, note, None)


def mark(met: bool | None) -> str:
    return "" if met is None else ("✓" if met else "✗")


def figures_table(figures: Sequence[Figure]) -> str:
    rows = [[f.name, f.rate.text(), f.rate.interval(), f.target, mark(f.met)] for f in figures]
    return markdown_table(["Figure", "Measured", "95% interval", "Target", ""], rows)
