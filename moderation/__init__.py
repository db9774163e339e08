"""reactclip's moderation: text verdicts before any generation, frame verdicts after.

It imports nothing of the engine, the bot or speech (import-linter checks it); it builds on the text
model it shares with emotion reading (reactclip.textmodel), and the bot's ReactionService wires it in.
"""

from reactclip.moderation.categories import UNSAFE, Category
from reactclip.moderation.context import GuildPolicy, RequestContext
from reactclip.moderation.lexicon import Lexicon, LexiconHit
from reactclip.moderation.ngram import NgramClassifier
from reactclip.moderation.policy import REASONS, is_blocked, verdict_for
from reactclip.moderation.semantic import SemanticClassifier, SemanticFinding, SemanticThresholds
from reactclip.moderation.text import TextModerator
from reactclip.moderation.verdict import FrameVerdict, TextVerdict

__all__ = [
    "REASONS",
    "UNSAFE",
    "Category",
    "FrameVerdict",
    "GuildPolicy",
    "Lexicon",
    "LexiconHit",
    "NgramClassifier",
    "RequestContext",
    "SemanticClassifier",
    "SemanticFinding",
    "SemanticThresholds",
    "TextModerator",
    "TextVerdict",
    "is_blocked",
    "verdict_for",
]
