"""How long reactclip takes to analyse one message (moderation + emotion + prompt) on one CPU core,
once the models are loaded. Target: at most 10 ms per message (issue 13).

Rows, each timed on every text of eval/messages.jsonl one at a time, rows interleaved per text:
the whole single-message analysis (``Analyzer.analyze``), the MiniLM encoding alone, text
moderation and emotion reading given that encoding, each model row again in eager PyTorch, the
lexicon-only moderation path when the moderator exposes one, and the text normalisation. Then the
batched throughput of ``Analyzer.analyze_many`` over the whole set.

    python bench/analyze_speed.py                # writes the "## Analysis speed" section of docs/perf.md
    python bench/analyze_speed.py --no-write     # prints the section only
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from _report import (
    PERF_DOC,
    ROOT,
    Stats,
    machine_description,
    markdown_table,
    pin_one_core,
    provenance,
    publish,
    ratio,
    seconds,
)

SECTION = "## Analysis speed"
TARGET_S = 0.010
DEFAULT_SET = ROOT / "eval" / "messages.jsonl"
PACKAGES = ("torch", "transformers", "sentence-transformers", "tokenizers", "numpy", "reactclip")


@dataclass
class Row:
    name: str
    run: Callable[[str], Any]
    note: str = ""
    samples: list[float] = field(default_factory=list)


def load_texts(path: Path) -> list[str]:
    texts = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if raw.strip():
            text = str(json.loads(raw)["text"]).replace("\r\n", " ").replace("\r", " ").replace("\n", " ")
            if text.strip():
                texts.append(text)
    if not texts:
        raise SystemExit(f"analyze_speed: no texts in {path}")
    return texts


def pin_one_core_for_torch(core: int | None) -> str:
    """One core, and torch at one thread. Runs before anything imports torch or tokenizers, so that
    their thread pools start with one thread."""
    pinned = pin_one_core(core)
    import torch

    torch.set_num_threads(1)
    return f"torch.set_num_threads(1), {pinned}"


def lexicon_path(moderator: Any) -> tuple[Callable[[str], Any], str] | None:
    """The moderator's lexicon-only check, if it exposes one: normalisation + lexicon, no model."""
    from reactclip.textmodel.normalize import normalize

    for name in ("check_lexicon", "lexicon_check", "check_fast"):
        method = getattr(moderator, name, None)
        if callable(method):
            return method, f"`TextModerator.{name}`"
    lexicon = getattr(moderator, "lexicon", None)
    for name in ("find", "check", "match", "scan"):
        method = getattr(lexicon, name, None)
        if callable(method):
            return partial(_normalized, method, normalize), f"`normalize` + `{type(lexicon).__name__}.{name}`"
    return None


def _normalized(method: Callable[[str], Any], normalize: Callable[[str], str], text: str) -> Any:
    return method(normalize(text))


def build(texts: Sequence[str]) -> tuple[Any, Any, list[Row], float, list[str]]:
    """The rows: the default (ONNX Runtime) analysis and its parts, each beside the same work in
    eager PyTorch (``ModerationSettings.runtime = "torch"``), so one run gives their ratio."""
    from reactclip.bot.service import ReactionService
    from reactclip.bot.settings import Settings
    from reactclip.moderation import RequestContext
    from reactclip.moderation.settings import ModerationSettings
    from reactclip.textmodel.normalize import normalize

    started = time.perf_counter()
    analyzer = ReactionService.from_settings(Settings()).analyzer
    load_s = time.perf_counter() - started
    eager = ReactionService.from_settings(Settings(moderation=ModerationSettings(runtime="torch"))).analyzer
    context = RequestContext()
    moderator, emotion = analyzer.moderator, analyzer.emotion
    layer = moderator.state_layer or 0
    encoded = {t: analyzer.embedder.encode_states([normalize(t) or " "], layer) for t in texts}
    notes: list[str] = []

    def encoding(embedder: Any) -> Callable[[str], Any]:
        return lambda t: embedder.encode_states([normalize(t) or " "], layer)

    def moderation(moderator: Any) -> Callable[[str], Any]:
        return lambda t: moderator.check(t, context, encoded=encoded[t])

    rows = [
        Row("analyze (one message, everything)", lambda t: analyzer.analyze(t, context)),
        Row("analyze, eager PyTorch instead of ONNX Runtime", lambda t: eager.analyze(t, context)),
        Row("encoding alone (normalize + MiniLM's lower layers)", encoding(analyzer.embedder)),
        Row("encoding alone, eager PyTorch", encoding(eager.embedder)),
        Row("text moderation given the encoding (lexicon, tuned head, n-grams)", moderation(moderator)),
        Row("text moderation given the encoding, eager PyTorch head", moderation(eager.moderator)),
        Row(
            "emotion reading given the encoding (tuned head, cues)",
            lambda t: emotion.read(t, encoded=encoded[t]),
        ),
        Row(
            "emotion reading given the encoding, eager PyTorch head",
            lambda t: eager.emotion.read(t, encoded=encoded[t]),
        ),
    ]
    lexicon = lexicon_path(moderator)
    if lexicon is not None:
        method, shown = lexicon
        rows.append(Row("lexicon-only moderation path", method, note=shown))
    else:
        notes.append("The moderator exposes no lexicon-only path, so there is no row for it.")
    rows.append(Row("normalize alone", normalize))
    return analyzer, context, rows, load_s, notes


def measure(rows: Sequence[Row], texts: Sequence[str], passes: int, warmup: int) -> None:
    """Every row on every text, one call at a time; rows interleaved per text so that background
    load spreads over all rows instead of landing on one."""
    for text in texts[:warmup]:
        for row in rows:
            row.run(text)
    for _ in range(passes):
        for text in texts:
            for row in rows:
                start = time.perf_counter()
                row.run(text)
                row.samples.append(time.perf_counter() - start)


def throughput(analyzer: Any, context: Any, texts: Sequence[str], passes: int) -> Stats | None:
    analyze_many = getattr(analyzer, "analyze_many", None)
    if analyze_many is None:
        return None
    analyze_many(list(texts[:64]), context)
    samples = []
    for _ in range(passes):
        start = time.perf_counter()
        analyze_many(list(texts), context)
        samples.append((time.perf_counter() - start) / len(texts))
    return Stats.of(samples)


def mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def section(
    rows: Sequence[Row],
    batched: Stats | None,
    texts: Sequence[str],
    passes: int,
    warmup: int,
    load_s: float,
    threads: str,
    notes: Sequence[str],
    machine: str,
    set_path: Path,
) -> str:
    reference = Stats.of(rows[0].samples).median
    table_rows = []
    for row in rows:
        stats = Stats.of(row.samples)
        table_rows.append(
            [
                row.name + (f" ({row.note})" if row.note else ""),
                seconds(stats.median),
                seconds(stats.p90),
                seconds(max(row.samples)),
                ratio(stats.median, reference),
            ]
        )
    if batched is not None:
        table_rows.append(
            [
                f"analyze_many, whole set in one call (per message, {len(texts)} messages)",
                seconds(batched.median),
                seconds(batched.p90),
                "-",
                ratio(batched.median, reference),
            ]
        )
    single = Stats.of(rows[0].samples)
    try:
        shown_set = set_path.resolve().relative_to(ROOT)
    except ValueError:
        shown_set = set_path
    verdict = (
        f"Target: at most {seconds(TARGET_S)} per message. Single-message analysis: median "
        f"{seconds(single.median)} {mark(single.median <= TARGET_S)}, p90 {seconds(single.p90)} "
        f"{mark(single.p90 <= TARGET_S)}, max {seconds(max(rows[0].samples))}."
    )
    return "\n".join(
        [
            provenance(machine, PACKAGES),
            f"- Threads: {threads}",
            "",
            f"Seconds per message on one CPU core with the models loaded (loading took {load_s:.1f} s),"
            f" over the {len(texts)} texts of `{shown_set}`, each analysed alone: {passes} pass(es) after"
            f" {warmup} warm-up text(s), rows interleaved per text, so each row has"
            f' {len(rows[0].samples)} samples. A normal channel (not NSFW). "vs analyze" divides'
            " each median by the single-message analysis median. The rows under the first split it:"
            " the encoding (MiniLM's lower layers) is computed once per message and shared by"
            " moderation and emotion reading, which are timed given it.",
            "",
            markdown_table(["Row", "Median", "p90", "Max", "vs analyze"], table_rows),
            "",
            verdict,
            *(["", *notes] if notes else []),
            "",
            "The machine is a small shared VM: other processes may have run on the same core during the"
            " measurement, which shows as a p90 and max well above the median.",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--set", type=Path, default=DEFAULT_SET, help="texts to analyse (JSON lines)")
    parser.add_argument("--passes", type=int, default=3, help="timed passes over the set (default 3)")
    parser.add_argument("--warmup", type=int, default=32, help="untimed texts first (default 32)")
    parser.add_argument("--core", type=int, default=None, help="the core to pin to (default: the last)")
    parser.add_argument("--out", type=Path, default=PERF_DOC, help="markdown file to update")
    parser.add_argument("--no-write", action="store_true", help="print the section, leave --out alone")
    args = parser.parse_args()
    if args.passes < 1 or args.warmup < 0:
        parser.error("--passes must be at least 1 and --warmup at least 0")

    machine = machine_description()  # before the work, so the load average is the background's
    logging.getLogger("reactclip").setLevel(logging.ERROR)  # no "blocked text" line per unsafe message
    threads = pin_one_core_for_torch(args.core)
    texts = load_texts(args.set)
    analyzer, context, rows, load_s, notes = build(texts)
    measure(rows, texts, args.passes, args.warmup)
    batched = throughput(analyzer, context, texts, args.passes)
    body = section(rows, batched, texts, args.passes, args.warmup, load_s, threads, notes, machine, args.set)
    publish(SECTION, body, None if args.no_write else args.out)


if __name__ == "__main__":
    main()
