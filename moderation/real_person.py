"""Whether a request points at a real, identifiable person.

Sexual content about a real person is blocked everywhere, NSFW channels included (policy.py): they
never agreed to it, and a clip of them can follow them around. This module only answers "who is
this about?"; text.py decides whether the request is sexual and combines the two.

A person is identifiable through (data/real_people.toml and data/names/):
- a server member: a mention (the normaliser turns ``<@id>`` into ``@user``), ``@name`` or a raw id;
- a relation: "my ex", "jake's mom", "the girl from my gym", "ms. rodriguez"; "her sister" too,
  unless the text is about anonymous people ("a man and his wife");
- a source of likeness: "deepfake", "face swap", "from her selfies", "undress this photo";
- a name: a public figure (a distinctive surname or a nickname alone too: "cumberbatch", "kim k"),
  or a first name presented as a person. A first name does not count inside a fictional
  character's name ("jessica rabbit") or beside a fiction marker ("my OC", "a character named ..."),
  and a first name that is also an everyday word ("hope", "mike") counts only where the words after
  it make it someone ("mike from the warehouse", "grace in her robe").
Anonymous and fictional adults ("two adults", "a succubus") are not identifiable.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path

from reactclip.moderation.lexicon import expand_lists
from reactclip.textmodel.normalize import dictionary_words

NAME_TOKEN = re.compile(r"[a-z0-9]+(?:[-'.][a-z0-9]+)*")
MAX_NAME_WORDS = 4
DETERMINERS = frozenset(
    {"a", "an", "the", "my", "our", "your", "his", "her", "their", "its", "this", "that", "these", "those"}
    | {"some", "any", "no", "every", "each"}
)
"""Before a first name that is also a word, these make it the word ("the mike", "a rose")."""


class Identity(StrEnum):
    """What makes the person identifiable, strongest evidence first."""

    MENTION = "mention"
    RELATION = "relation"
    LIKENESS = "likeness"
    PUBLIC_FIGURE = "public_figure"
    FIRST_NAME = "first_name"


@dataclass(frozen=True)
class PersonCue:
    identity: Identity
    text: str
    """The words of the normalised text that identify the person."""


def _data_dir() -> Path:
    return Path(str(resources.files("reactclip.moderation") / "data"))


def _read_names(path: Path) -> frozenset[str]:
    return frozenset(
        " ".join(NAME_TOKEN.findall(line.split("\t")[0].lower()))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    )


def _pattern(entries: list[str]) -> re.Pattern[str]:
    body = "|".join(f"(?:{e})" for e in sorted(entries, key=len, reverse=True))
    return re.compile(rf"(?<![a-z0-9])(?:{body})(?![a-z0-9])")


class RealPersonFinder:
    """Finds the first cue that a normalised text is about a real, identifiable person."""

    def __init__(self, data_dir: Path | None = None) -> None:
        data_dir = data_dir or _data_dir()
        rules = tomllib.loads((data_dir / "real_people.toml").read_text(encoding="utf-8"))
        lists: dict[str, str] = rules["lists"]

        def expand(entries: list[str]) -> list[str]:
            return [expand_lists(e, lists) for e in entries]

        self.patterns: dict[Identity, re.Pattern[str]] = {
            Identity(kind): _pattern(expand(rules[kind]["patterns"]))
            for kind in (Identity.MENTION, Identity.RELATION, Identity.LIKENESS)
        }
        self.relation_of_someone = _pattern(expand(rules["relation_of_someone"]["patterns"]))
        self.anonymous = _pattern(expand(rules["anonymous"]["markers"]))
        self.fiction_markers = _pattern(expand(rules["fiction"]["markers"]))
        self.presented_as_person = _pattern(expand(rules["presented_as_person"]["patterns"]))
        self.sexualising = _pattern(expand(rules["sexualising"]["terms"]))
        names = data_dir / "names"
        self.public_figures = _read_names(names / "public_figures.txt")
        self.fictional = _read_names(names / "fictional_characters.txt")
        self.ambiguous_first_names = _read_names(names / "ambiguous_first_names.txt")
        self.first_names = _read_names(names / "first_names.txt") - self.ambiguous_first_names
        self.public_figures |= self._distinctive_surnames(_read_names(names / "common_surnames.txt"))
        self.public_figures |= _read_names(names / "public_nicknames.txt")

    def _distinctive_surnames(self, common: frozenset[str]) -> frozenset[str]:
        """Public figures' surnames that name them alone ("cumberbatch", "kardashian"): not a
        dictionary word, a first name, a character's name or one of the most common surnames."""
        dictionary = dictionary_words()
        taken = self.first_names | self.ambiguous_first_names | self.fictional | common
        surnames = (name.split()[-1] for name in self.public_figures if " " in name)
        return frozenset(s for s in surnames if len(s) >= 5 and s not in dictionary and s not in taken)

    def is_sexualising(self, normalized: str, allowed: Sequence[tuple[int, int]] = ()) -> bool:
        """Words that make a request about a real person sexual even where they would not decide a
        category on their own ("undress", "in lingerie", "thirst trap"). ``allowed``: spans of the
        lexicon's allow-list ("the naked chef", "sex and the city"), where such a word means nothing."""
        return any(
            not any(start < a_end and a_start < end for a_start, a_end in allowed)
            for start, end in (m.span() for m in self.sexualising.finditer(normalized))
        )

    def find(self, normalized: str, written: str = "") -> PersonCue | None:
        """``written``: the text as sent, where a handle keeps its "@" (the normaliser reads
        "@dani_b" as a leetspeak "adani_b")."""
        mention = self.patterns[Identity.MENTION].search(written.lower())
        if mention is not None:
            return PersonCue(Identity.MENTION, mention.group())
        for identity, pattern in self.patterns.items():
            match = pattern.search(normalized)
            if match is not None:
                return PersonCue(identity, match.group())
        match = self.relation_of_someone.search(normalized)
        if match is not None and not self._invented_or_anonymous(normalized):
            return PersonCue(Identity.RELATION, match.group())
        return self._named(normalized)

    def _invented_or_anonymous(self, normalized: str) -> bool:
        return (
            self.anonymous.search(normalized) is not None
            or self.fiction_markers.search(normalized) is not None
        )

    def _named(self, normalized: str) -> PersonCue | None:
        tokens = [t.removesuffix("'s") for t in NAME_TOKEN.findall(normalized)]
        taken = [False] * len(tokens)
        first_name: PersonCue | None = None
        invented = self.fiction_markers.search(normalized) is not None
        # Longest names first, so "jessica rabbit" (fictional) claims "jessica" before the first names.
        for size in range(min(MAX_NAME_WORDS, len(tokens)), 0, -1):
            for start in range(len(tokens) - size + 1):
                if any(taken[start : start + size]):
                    continue
                words = " ".join(tokens[start : start + size])
                if words in self.public_figures:
                    return PersonCue(Identity.PUBLIC_FIGURE, words)
                if words in self.fictional:
                    taken[start : start + size] = [True] * size
                elif size == 1 and first_name is None and not invented and self._first_name(tokens, start):
                    first_name = PersonCue(Identity.FIRST_NAME, words)
        return first_name

    def _first_name(self, tokens: list[str], at: int) -> bool:
        """Whether ``tokens[at]`` is a first name presented as a person: any first name, or one that
        is also an everyday word when the words after it make it someone ("mike from the
        warehouse")."""
        if tokens[at] in self.first_names:
            return True
        if tokens[at] not in self.ambiguous_first_names or (at > 0 and tokens[at - 1] in DETERMINERS):
            return False  # "the mike from the stage" is a microphone
        return self.presented_as_person.match(" ".join(tokens[at + 1 : at + 5])) is not None
