"""What moderation can say about a request or a clip."""

from enum import StrEnum


class Category(StrEnum):
    SEXUAL = "sexual"
    SEXUAL_MINORS = "sexual_minors"
    VIOLENCE_GORE = "violence_gore"
    HATE = "hate"
    SELF_HARM = "self_harm"
    HARASSMENT = "harassment"
    NONE = "none"


UNSAFE = tuple(c for c in Category if c is not Category.NONE)
