"""The words of moderation's rules that the normaliser must keep whole: every word of the lexicon's
and the real-person rule's patterns ("steamy" stays whole, not "ste amy") and the names it knows
("messi" must not become "mess i", nor "theron" "the ron").

The normaliser lives in the text model (reactclip.textmodel), which imports nothing of moderation;
it reads these words from its own data file, textmodel/data/kept_whole.txt. After changing the
lexicon, real_people.toml or a names list, write the file again with
``python -m reactclip.moderation.vocabulary`` (a test fails until then).
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from reactclip.textmodel.normalize import KEPT_WHOLE_FILE, data_dir

RULE_FILES = ("lexicon.toml", "real_people.toml")


def rule_words() -> set[str]:
    """The words to keep whole, from moderation's data as it is now."""
    data = Path(str(resources.files("reactclip.moderation") / "data"))
    words: set[str] = set()
    for rules in RULE_FILES:
        text = (data / rules).read_text(encoding="utf-8")
        words.update(w for w in re.findall(r"[a-z]{2,}", text) if len(w) <= 20)
    for names in sorted((data / "names").iterdir()):
        lines = names.read_text(encoding="utf-8").splitlines()
        words.update(
            w for line in lines if not line.startswith("#") for w in re.findall(r"[a-z]{3,}", line.lower())
        )
    return words


def write(path: Path | None = None) -> Path:
    path = path or data_dir() / KEPT_WHOLE_FILE
    header = "# Written by python -m reactclip.moderation.vocabulary from moderation's rules; do not edit.\n"
    path.write_text(header + "\n".join(sorted(rule_words())) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    print(f"wrote {write()}")
