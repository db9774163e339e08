"""reactclip's moderation: text verdicts before any generation, frame verdicts after.

It imports nothing of the engine, the bot or speech; the bot's orchestrator wires it in.
"""

from reactclip.moderation.categories import UNSAFE, Category
from reactclip.moderation.context import GuildPolicy, RequestContext
from reactclip.moderation.verdict import FrameVerdict, TextVerdict

__all__ = ["UNSAFE", "Category", "FrameVerdict", "GuildPolicy", "RequestContext", "TextVerdict"]
