"""What every entry point hands the pipeline: one frozen ``Request``.

The CLI, each Discord entry point (slash command, message menu, DM, @mention, voice message, voice
channel, buttons) and whatever comes next turn their input into a Request and nothing else; the
ReactionService (service.py) takes it from there. Keeping it a plain value (no Discord object, no
file handle) is what lets one tested path serve every entry point, and a queue carry it later.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from reactclip.engine.executor import Priority
from reactclip.engine.mood import Mood
from reactclip.engine.request_id import new_request_id
from reactclip.engine.spec import MAX_FRAMES
from reactclip.moderation import GuildPolicy, RequestContext

Entry = Literal[
    "cli", "batch", "slash", "message_menu", "dm", "mention", "voice_message", "voice_channel", "button"
]
"""Where a request came in: for logs and metrics, never for what is allowed."""

Quality = Literal["normal", "high"]
HIGH_QUALITY_STEPS = 40
"""Denoising steps of a quality:high preview (the normal clip takes 20)."""

MAX_TEXT_CHARS = 500
"""The longest message reactclip reacts to, whatever the entry point (a slash option's own limit)."""

Audio = bytes | Path
"""A recording to hear: its bytes (a Discord voice message) or a file (the CLI's --audio)."""


def hash_user(user_id: object) -> str:
    """A short stable hash of a user id for logs and the queue's fairness; the raw id is never
    logged."""
    return hashlib.sha256(f"reactclip-user:{user_id}".encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Origin:
    """Who asked, and where: all the pipeline needs to judge and queue a request."""

    entry: Entry
    user_hash: str
    guild_id: int | None = None
    channel_id: int | None = None
    nsfw_channel: bool = False
    """The channel is marked NSFW (a thread inherits its parent's flag)."""
    dm: bool = False
    policy: GuildPolicy = field(default_factory=GuildPolicy)
    """The guild's moderation policy; the defaults in a DM or the CLI."""

    @property
    def context(self) -> RequestContext:
        """The moderation policy's view of this origin."""
        return RequestContext(
            nsfw_channel=self.nsfw_channel and not self.dm,
            is_dm=self.dm,
            guild=GuildPolicy() if self.dm else self.policy,
            user_hash=self.user_hash,
        )

    @property
    def queue_group(self) -> str | None:
        """Whom the executor's fair queue shares the GPU between: the guild (None: per user)."""
        return None if self.guild_id is None else str(self.guild_id)


@dataclass(frozen=True)
class Options:
    """What the requester chose besides the words; None falls back to the operator's settings."""

    style: str | None = None
    mood: Mood | None = None
    """Override the mood read from the text."""
    raw_prompt: bool = False
    """Use the text as the prompt verbatim (no emotion mapping); moderation still runs."""
    seed: int | None = None
    mascot: str | None = None
    """The guild's mascot: the subject when the text names none."""
    frames: int | None = None
    size: tuple[int, int] | None = None
    """Width and height in pixels."""
    fps: int | None = None
    steps: int | None = None
    guidance: float | None = None
    format: str | None = None
    """mp4, gif or webp."""
    preview_after_s: float | None = None
    """Show a sticker version first when the clip is expected later than this; None: never."""
    quality: Quality = "normal"
    """"high": a preview for someone shaping an idea: HIGH_QUALITY_STEPS steps and the full
    MAX_FRAMES frames at 480p, at batch priority (chat reactions stay ahead of it)."""

    def spec_fields(self) -> dict[str, Any]:
        """The GenerationSpec fields the requester set (the rest stay the spec's defaults)."""
        width, height = self.size if self.size is not None else (None, None)
        high = self.quality == "high"
        fields = {
            "frames": MAX_FRAMES if high else self.frames,
            "width": width,
            "height": height,
            "fps": self.fps,
            "steps": HIGH_QUALITY_STEPS if high and self.steps is None else self.steps,
            "guidance": self.guidance,
            "format": self.format,
        }
        return {name: value for name, value in fields.items() if value is not None}


@dataclass(frozen=True)
class Request:
    """One message to react to: what was said (text, or audio to hear), where it came from, what
    was asked, and how urgent it is."""

    said: str | Audio
    origin: Origin
    options: Options = field(default_factory=Options)
    priority: Priority = Priority.INTERACTIVE
    id: str = field(default_factory=new_request_id, compare=False)
    """Names the request in every log line about it, from the entry point to a worker and back,
    and in the buttons under its clip."""

    @property
    def is_audio(self) -> bool:
        return not isinstance(self.said, str)

    @property
    def queue_priority(self) -> Priority:
        """A high-quality preview waits behind chat reactions, whatever its entry point."""
        return Priority.BATCH if self.options.quality == "high" else self.priority

    def __repr__(self) -> str:
        # Never the words (user text stays out of logs above debug) nor the audio's bytes.
        said = f"{len(self.said)} chars" if isinstance(self.said, str) else "audio"
        return f"Request({said}, {self.origin.entry}, {self.priority.value})"
