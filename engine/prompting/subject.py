"""What the clip shows: the subject a request names ("make a clip of a dancing cat"), if any.

The patterns live in templates.toml ([subject]) so an operator can teach the bot their members'
phrasing without a code change. A message that names no subject gets the guild's mascot instead
(the builder decides that).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

MENTION = re.compile(r"<(?:@[!&]?|#)\d+>|^/\w+\s*")
"""Discord mentions and a leading slash command ("/react ...")."""
END_PUNCTUATION = " \t.,!?;:~…\"'"


@cache
def _compiled(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, re.IGNORECASE) for p in patterns)


def _strip_symbols(text: str) -> str:
    """Drop emoji and other symbols at the end ("a dancing cat 🐱 pls" -> "a dancing cat pls")."""
    while text and not (text[-1].isalnum() or text[-1] in ")]'"):
        text = text[:-1]
    return text


def extract_subject(text: str, rules: Mapping[str, Any]) -> str | None:
    """The subject the message asks for, as written, or None when it names none.

    ``rules`` is the [subject] table of the templates: ``openers`` (polite words stripped from the
    front), ``patterns`` (regexes with a ``subject`` group), ``not_subject_words``, ``trailing`` and
    ``max_chars``.
    """
    line = " ".join(MENTION.sub(" ", text).split())
    openers = _compiled(tuple(rf"^{o}\s+" for o in rules.get("openers", ())))
    changed = True
    while changed:
        changed = False
        for opener in openers:
            stripped = opener.sub("", line, count=1)
            if stripped != line:
                line, changed = stripped, True
    trailing = rules.get("trailing")
    line = _strip_symbols(line.strip(END_PUNCTUATION))
    if trailing:
        line = _strip_symbols(re.sub(trailing, "", line, flags=re.IGNORECASE).strip(END_PUNCTUATION))
    excluded = {w.lower() for w in rules.get("not_subject_words", ())}
    for pattern in _compiled(tuple(rules.get("patterns", ()))):
        match = pattern.match(line)
        if match is None:
            continue
        subject = _strip_symbols(match.group("subject").strip(END_PUNCTUATION))
        words = {w.lower() for w in re.findall(r"[\w']+", subject)}
        if subject and not words & excluded and len(subject) <= int(rules.get("max_chars", 120)):
            return subject
    return None
