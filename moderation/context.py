"""Where a request comes from decides what is allowed: the channel's NSFW flag and the guild's policy.

Guild settings can only make the policy stricter: they can turn off what NSFW channels allow and
lower the thresholds, never allow what the defaults block.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Strictness = Literal["standard", "strict"]


@dataclass(frozen=True)
class GuildPolicy:
    """A guild's moderation settings; the defaults are the loosest a guild can have."""

    allow_nsfw_channels: bool = True
    """False blocks adult content even in channels Discord marks NSFW."""
    strictness: Strictness = "standard"
    """"strict" blocks on weaker evidence (lower thresholds in every layer)."""


@dataclass(frozen=True)
class RequestContext:
    """Where a request was made. DMs count as not NSFW."""

    nsfw_channel: bool = False
    is_dm: bool = False
    guild: GuildPolicy = GuildPolicy()
    user_hash: str = ""
    """A hash of the requester's id, for block logs (never the raw id)."""

    @property
    def adult_content_allowed(self) -> bool:
        return self.nsfw_channel and not self.is_dm and self.guild.allow_nsfw_channels
