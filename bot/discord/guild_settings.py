"""One guild's settings, declared once: each field's type, default, bounds and description here are
what ``/reactclip settings set`` offers (its options are built from the model by ``set_options``),
what the store checks and keeps (``GuildSettings.check``), and what ``settings show`` prints
(``describe``).

A guild can only be stricter than the defaults: the defaults are the loosest values allowed
(``strictness`` "standard" is the loosest of its choices), so no stored value can loosen them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args, get_origin

import annotated_types
import discord
from discord import app_commands
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator

from reactclip.bot.discord.text import quote_user_text
from reactclip.engine.spec import MAX_FRAMES, MIN_FRAMES
from reactclip.moderation.context import GuildPolicy, Strictness
from reactclip.speech.wake import DEFAULT_WAKE_PHRASE, MAX_WAKE_PHRASE_CHARS, VoiceMode, words_of

MAX_MASCOT_CHARS = 60
LISTEN_PERMISSIONS = (
    "move_members",
    "mute_members",
    "deafen_members",
    "manage_channels",
    "manage_guild",
    "connect",
)
"""The permissions offered for ``listen_permission`` (any Discord permission is accepted)."""


class GuildSettingError(ValueError):
    """A setting a guild may not have; the message says what is allowed."""


def permission_name(flag: str) -> str:
    """ "move_members" -> "Move Members", as Discord's settings spell it."""
    return flag.replace("_", " ").title()


def _on_off(value: bool) -> str:
    return "on" if value else "off"


@dataclass(frozen=True)
class Shown:
    """How ``settings show`` prints a field: its label and its value in words."""

    label: str
    words: Callable[[Any], str] = str


@dataclass(frozen=True)
class Offered:
    """The field is an option of ``settings set``; ``choices`` beyond a Literal's own values."""

    choices: tuple[str, ...] = ()


def _quoted(text: str | None) -> str:
    return quote_user_text(text) if text else "the default"


class GuildSettings(BaseModel):
    """One guild's settings; the field defaults are every guild's defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled_channels: Annotated[
        tuple[int, ...],
        Shown("channels", lambda ids: ", ".join(f"<#{cid}>" for cid in ids) or "every channel"),
    ] = Field((), description="Channels where the bot answers; empty means every channel it can see")
    default_style: Annotated[str | None, Shown("default style", lambda v: v or "the default"), Offered()] = (
        Field(None, description="The style when a request names none")
    )
    default_frames: Annotated[
        int | None, Shown("default frames", lambda v: str(v or "the default")), Offered()
    ] = Field(
        None,
        ge=MIN_FRAMES,
        le=MAX_FRAMES,
        strict=True,
        description=f"The frame count when a request names none ({MIN_FRAMES}-{MAX_FRAMES})",
    )
    mascot: Annotated[str | None, Shown("mascot", _quoted), Offered()] = Field(
        None,
        min_length=1,
        max_length=MAX_MASCOT_CHARS,
        description="Who reacts when a message names no subject ('default' resets it)",
    )
    strictness: Annotated[Strictness, Shown("moderation"), Offered()] = Field(
        "standard", description="strict blocks on weaker evidence; never looser than standard"
    )
    allow_nsfw_channels: Annotated[
        StrictBool, Shown("adult content in NSFW channels", lambda v: "allowed" if v else "off"), Offered()
    ] = Field(True, description="Allow adult content in channels Discord marks NSFW")
    voice_triggers: Annotated[StrictBool, Shown("voice triggers", _on_off), Offered()] = Field(
        False, description="Allow /reactclip listen: clips of what is said in a voice channel"
    )
    voice_mode: Annotated[VoiceMode, Offered()] = Field(
        "wake",
        description="In voice: 'wake' reacts to what starts with the wake phrase, 'every' to everything",
    )
    wake_phrase: Annotated[str, Offered()] = Field(
        DEFAULT_WAKE_PHRASE,
        min_length=1,
        max_length=MAX_WAKE_PHRASE_CHARS,
        description=f"The words that start a request in voice (default: {DEFAULT_WAKE_PHRASE})",
    )
    listen_permission: Annotated[
        str,
        Shown("who may start listening", lambda flag: f"members with {permission_name(flag)}"),
        Offered(LISTEN_PERMISSIONS),
    ] = Field("move_members", description="The permission a member needs to start or stop listening")
    instant_preview: Annotated[
        StrictBool, Shown("instant sticker while a clip is made", _on_off), Offered()
    ] = Field(True, description="Post a quick sticker while a slow clip is made, then replace it")
    voice_messages: Annotated[
        StrictBool,
        Shown("every voice message", lambda v: "on (rate-limited)" if v else "off"),
        Offered(),
    ] = Field(
        False,
        description="Answer every voice message in the enabled channels, not only those sent to the bot",
    )

    @field_validator("enabled_channels", mode="before")
    @classmethod
    def _sorted_channels(cls, ids: Any) -> tuple[int, ...]:
        return tuple(sorted({int(cid) for cid in ids}))

    @field_validator("mascot", "wake_phrase", mode="before")
    @classmethod
    def _single_spaced(cls, text: Any) -> Any:
        return " ".join(text.split()) if isinstance(text, str) else text

    @field_validator("wake_phrase")
    @classmethod
    def _has_a_word(cls, phrase: str) -> str:
        if not words_of(phrase):
            raise ValueError(
                f"the wake phrase must be 1-{MAX_WAKE_PHRASE_CHARS} characters with a word in it"
            )
        return phrase

    @field_validator("listen_permission")
    @classmethod
    def _a_permission(cls, flag: str) -> str:
        if flag not in discord.Permissions.VALID_FLAGS:
            raise ValueError(f"{flag!r} is not a Discord permission")
        return flag

    @property
    def policy(self) -> GuildPolicy:
        return GuildPolicy(allow_nsfw_channels=self.allow_nsfw_channels, strictness=self.strictness)

    def channel_enabled(self, *channel_ids: int | None) -> bool:
        """Whether the bot answers here; pass a thread's id and its parent's."""
        if not self.enabled_channels:
            return True
        return any(cid in self.enabled_channels for cid in channel_ids if cid is not None)

    @classmethod
    def check(cls, name: str, value: Any) -> Any:
        """The value to store for ``name``, or GuildSettingError with a line fit for the person."""
        if name not in cls.model_fields:
            names = ", ".join(sorted(cls.model_fields))
            raise GuildSettingError(f"{name!r} is not a setting; the settings are {names}")
        try:
            return getattr(cls.model_validate({name: value}), name)
        except ValidationError as error:
            raise GuildSettingError(_line(name, error)) from None

    def changed(self, **changes: Any) -> GuildSettings:
        """These settings with ``changes`` checked and applied (all or none)."""
        checked = {name: self.check(name, value) for name, value in changes.items()}
        return self.model_copy(update=checked)

    def describe(self) -> str:
        """What ``settings show`` prints: one line per setting, in words."""
        lines = []
        for name, field in type(self).model_fields.items():
            shown = next((m for m in field.metadata if isinstance(m, Shown)), None)
            if name == "voice_mode":
                lines.append(f"in voice: {self.voice_mode_line()}")
            elif shown is not None:
                lines.append(f"{shown.label}: {shown.words(getattr(self, name))}")
        return "\n".join(lines)

    def voice_mode_line(self) -> str:
        """Which utterances become requests, in words."""
        if self.voice_mode == "every":
            return "every utterance"
        return f'what starts with "{quote_user_text(self.wake_phrase, MAX_WAKE_PHRASE_CHARS)}"'


DEFAULTS = GuildSettings()


def _line(name: str, error: ValidationError) -> str:
    """A pydantic error as one line for the person: the field's own words where it has them."""
    [first, *_] = error.errors()
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] in ("literal_error", "enum"):
        return f"{name.replace('_', ' ')} {first['input']!r} is not allowed; {message.lower()}"
    return f"{name.replace('_', ' ')}: {message[0].lower()}{message[1:]}"


# ``settings set``'s options ---------------------------------------------------------------------


def set_options() -> list[inspect.Parameter]:
    """The keyword parameters of the ``settings set`` callback, one per offered field, each
    optional: discord.py reads the option types, bounds and choices from their annotations."""
    parameters = []
    for name, field in GuildSettings.model_fields.items():
        offered = next((m for m in field.metadata if isinstance(m, Offered)), None)
        if offered is None:
            continue
        parameters.append(
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=_option_type(field)
            )
        )
    return parameters


def set_descriptions() -> dict[str, str]:
    return {
        name: field.description or name
        for name, field in GuildSettings.model_fields.items()
        if any(isinstance(m, Offered) for m in field.metadata)
    }


def set_choices() -> dict[str, list[app_commands.Choice[str]]]:
    """Fixed choices per option: a Literal's values or an Offered's list. The default style is
    offered by autocomplete instead, from the templates the bot runs with."""
    choices: dict[str, list[app_commands.Choice[str]]] = {}
    for name, field in GuildSettings.model_fields.items():
        offered = next((m for m in field.metadata if isinstance(m, Offered)), None)
        if offered is None:
            continue
        values = list(offered.choices) or list(_literal_values(field.annotation))
        if values:
            label = permission_name if name == "listen_permission" else str
            choices[name] = [app_commands.Choice(name=label(v), value=v) for v in values[:25]]
    return choices


def _literal_values(annotation: Any) -> tuple[str, ...]:
    if get_origin(annotation) is Literal:
        return get_args(annotation)
    return ()


def _option_type(field: Any) -> Any:
    """The option's annotation: the field's base type, with its bounds as an app_commands.Range."""
    base = next((a for a in get_args(field.annotation) if a is not type(None)), field.annotation)
    if base is StrictBool or base is bool or (get_origin(base) is Annotated and get_args(base)[0] is bool):
        return bool | None
    low = next((m.ge for m in field.metadata if isinstance(m, annotated_types.Ge)), None)
    high = next((m.le for m in field.metadata if isinstance(m, annotated_types.Le)), None)
    longest = next((m.max_length for m in field.metadata if isinstance(m, annotated_types.MaxLen)), None)
    if base is int and low is not None and high is not None:
        return app_commands.Range[int, low, high] | None
    if longest is not None:
        return app_commands.Range[str, 1, longest] | None
    return str | None
