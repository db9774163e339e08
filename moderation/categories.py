"""What moderation can say about a request or a clip."""

from enum import StrEnum


class Category(StrEnum):
    SEXUAL = "sexual"
    SEXUAL_MINORS = "sexual_minors"
    SEXUAL_REAL_PERSON = "sexual_real_person"
    """Sexual, nude or undressing content about a real, identifiable person (real_person.py): a rule
    on top of the layers, never a class the semantic head predicts."""
    VIOLENCE_GORE = "violence_gore"
    HATE = "hate"
    SELF_HARM = "self_harm"
    HARASSMENT = "harassment"
    NONE = "none"


UNSAFE = tuple(c for c in Category if c is not Category.NONE)
