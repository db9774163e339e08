"""Score the text moderator on a labelled file: ``python -m reactclip.moderation.evaluate FILE``.

FILE is JSON lines {"text", "category", "obfuscated"?}. Reports, per category, the share of unsafe
messages blocked in a standard non-NSFW channel, the share of safe ones wrongly blocked, the
obfuscated catch rate and the time per message. Use a file the semantic layer was not trained on.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

from reactclip.moderation.categories import Category
from reactclip.moderation.context import RequestContext
from reactclip.moderation.text import TextModerator


def evaluate(
    moderator: TextModerator, rows: list[dict[str, object]], show_errors: bool = False
) -> dict[str, float]:
    context = RequestContext()
    caught: dict[str, list[bool]] = defaultdict(list)
    obfuscated: list[bool] = []
    started = time.perf_counter()
    for row in rows:
        text, category = str(row["text"]), Category(str(row["category"]))
        verdict = moderator.check(text, context)
        blocked = not verdict.allowed
        caught[category.value].append(blocked)
        if category is not Category.NONE and row.get("obfuscated"):
            obfuscated.append(blocked)
        if show_errors and blocked == (category is Category.NONE):
            print(f"  miss: {category.value:14s} got {verdict.category.value}/{verdict.layer}: {text!r}")
    elapsed = time.perf_counter() - started
    unsafe = [b for c, bs in caught.items() if c != Category.NONE.value for b in bs]
    scores = {f"caught_{c}": sum(bs) / len(bs) for c, bs in caught.items() if c != Category.NONE.value}
    scores["caught_unsafe"] = sum(unsafe) / max(len(unsafe), 1)
    scores["safe_wrongly_blocked"] = sum(caught[Category.NONE.value]) / max(
        len(caught[Category.NONE.value]), 1
    )
    scores["caught_obfuscated"] = sum(obfuscated) / max(len(obfuscated), 1)
    scores["ms_per_message"] = 1000 * elapsed / max(len(rows), 1)
    return scores


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--lexicon-only", action="store_true", help="no embedder: the lexicon layer alone")
    parser.add_argument("--errors", action="store_true", help="print every wrong verdict")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    rows = [json.loads(line) for line in args.file.read_text(encoding="utf-8").splitlines() if line.strip()]
    if args.lexicon_only:
        moderator = TextModerator()
    else:
        from reactclip.moderation.settings import ModerationSettings
        from reactclip.textmodel.embedder import load_embedder

        moderator = TextModerator(load_embedder(ModerationSettings()))
        moderator.check("warm up", RequestContext())
    for name, value in evaluate(moderator, rows, args.errors).items():
        print(f"{name:24s} {value:.3f}" if not name.startswith("ms") else f"{name:24s} {value:.1f}")


if __name__ == "__main__":
    main()
