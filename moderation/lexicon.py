"""The lexicon layer: word and phrase lists (data/lexicon.toml) matched on normalised text.

A hit decides its category unless an allow-list phrase ("kill the process", "breast cancer") covers
that span. Sexual content involving minors is also found by proximity: a sexual term or cue within a
few words of a minor term ("14yo", "kid", "middle schooler"). Regexes are compiled once per Lexicon.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from reactclip.moderation.categories import Category

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class LexiconHit:
    category: Category
    start: int
    end: int
    text: str
    """The matched span of the normalised text."""


def expand_lists(entry: str, lists: dict[str, str]) -> str:
    """``entry`` with each ``{name}`` replaced by ``lists[name]`` (other braces, such as ``{2,32}``, stay)."""

    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in lists:
            raise ValueError(f"lexicon entry {entry!r} uses {{{name}}}, which is not in [lists]")
        return lists[name]

    return _PLACEHOLDER.sub(sub, entry)


def _compile(entries: list[str], lists: dict[str, str]) -> re.Pattern[str]:
    # Longer entries first so that "kill myself" wins over a shorter overlapping alternative.
    body = "|".join(f"(?:{expand_lists(e, lists)})" for e in sorted(entries, key=len, reverse=True))
    return re.compile(rf"(?<![a-z0-9])(?:{body})(?![a-z0-9])")


class Lexicon:
    """Compiled category patterns, the minors proximity rule and the allow-list."""

    def __init__(self, path: Path | None = None) -> None:
        if path is None:
            text = (resources.files("reactclip.moderation") / "data" / "lexicon.toml").read_text(
                encoding="utf-8"
            )
        else:
            text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
        lists: dict[str, str] = data.get("lists", {})
        categories = data["categories"]
        unknown = set(categories) - {c.value for c in Category}
        if unknown:
            raise ValueError(
                f"lexicon has unknown categories {sorted(unknown)}; allowed: {[c.value for c in Category]}"
            )
        self.patterns: dict[Category, re.Pattern[str]] = {
            Category(name): _compile(section["terms"], lists) for name, section in categories.items()
        }
        minors = categories.get(Category.SEXUAL_MINORS.value, {})
        self.minor_pattern = _compile([lists["minor"]], lists) if "minor" in lists else None
        self.minor_cue_pattern = _compile(minors["cues"], lists) if minors.get("cues") else None
        self.minor_window: int = int(minors.get("window", 60))
        self.allow_pattern = _compile(data["allow"]["phrases"], lists)

    def allowed_spans(self, normalized: str) -> list[tuple[int, int]]:
        return [m.span() for m in self.allow_pattern.finditer(normalized)]

    def find(self, normalized: str) -> list[LexiconHit]:
        """Every hit on ``normalize(text)`` that no allow-list phrase overlaps, minors first, then in
        reading order."""
        allowed = self.allowed_spans(normalized)

        def is_allowed(start: int, end: int) -> bool:
            return any(start < a_end and a_start < end for a_start, a_end in allowed)

        hits: list[LexiconHit] = []
        for category, pattern in self.patterns.items():
            for m in pattern.finditer(normalized):
                if not is_allowed(*m.span()):
                    hits.append(LexiconHit(category, m.start(), m.end(), m.group()))
        if not any(h.category is Category.SEXUAL_MINORS for h in hits):
            hits.extend(self._minors_by_proximity(normalized, hits, is_allowed))
        # Minors first; then by position, the longer phrase first ("unalive yourself" over "unalive").
        hits.sort(key=lambda h: (h.category is not Category.SEXUAL_MINORS, h.start, h.start - h.end))
        return hits

    def _minors_by_proximity(
        self, normalized: str, hits: list[LexiconHit], is_allowed: Callable[[int, int], bool]
    ) -> list[LexiconHit]:
        if self.minor_pattern is None:
            return []
        minors = [m.span() for m in self.minor_pattern.finditer(normalized) if not is_allowed(*m.span())]
        if not minors:
            return []
        cues = [(h.start, h.end) for h in hits if h.category is Category.SEXUAL]
        if self.minor_cue_pattern is not None:
            cues += [
                m.span() for m in self.minor_cue_pattern.finditer(normalized) if not is_allowed(*m.span())
            ]
        found = []
        for m_start, m_end in minors:
            for c_start, c_end in cues:
                gap = max(c_start - m_end, m_start - c_end, 0)
                if gap <= self.minor_window:
                    start, end = min(m_start, c_start), max(m_end, c_end)
                    found.append(LexiconHit(Category.SEXUAL_MINORS, start, end, normalized[start:end]))
                    break
        return found
