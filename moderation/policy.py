"""The policy: given what a layer found, what is allowed where.

- sexual: only where ``context.adult_content_allowed`` (an NSFW channel, not a DM, the guild allows it).
- sexual_minors: never, anywhere, NSFW channels included.
- sexual_real_person: never, anywhere (sexual content about a real, identifiable person).
- violence_gore, hate, self_harm, harassment: never.
A guild can only make this stricter (GuildPolicy turns off NSFW channels or lowers thresholds).
"""

from __future__ import annotations

from reactclip.moderation.categories import Category
from reactclip.moderation.context import RequestContext
from reactclip.moderation.verdict import TextVerdict

REASONS: dict[Category, str] = {
    Category.SEXUAL: "I can't make clips about sexual content outside NSFW channels.",
    Category.SEXUAL_MINORS: "I can't make that. Sexual content involving minors is never allowed.",
    Category.SEXUAL_REAL_PERSON: (
        "I can't make sexual or nude clips of real people, in any channel: they never agreed to it."
    ),
    Category.VIOLENCE_GORE: "I can't make clips with graphic violence, gore or threats against people.",
    Category.HATE: "I can't make clips that attack people for who they are.",
    Category.SELF_HARM: (
        "It sounds like you're going through a lot. I can't make a clip of that, but if you're struggling, "
        "please reach out to someone you trust or a local helpline."
    ),
    Category.HARASSMENT: "I can't make clips that insult, threaten or target someone.",
}


def is_blocked(category: Category, context: RequestContext) -> bool:
    if category is Category.NONE:
        return False
    if category is Category.SEXUAL:
        return not context.adult_content_allowed
    return True


def verdict_for(category: Category, confidence: float, layer: str, context: RequestContext) -> TextVerdict:
    """The verdict for one finding: blocked with the category's reason, or allowed (e.g. sexual content
    in an NSFW channel, which keeps its category so callers can tag the clip)."""
    if is_blocked(category, context):
        return TextVerdict(False, category, confidence, layer, REASONS[category])
    return TextVerdict(True, category, confidence, layer, "")
