"""The buttons under a posted clip: Regenerate, Another style, Delete, and a thumbs up or down.

Each button's custom_id carries its action and the request id (``reactclip:<action>:<id>``); the
request itself (text, style, frames, requester) lives in the guild store. The buttons are
``DynamicItem``s, so they keep working after a restart without any view held in memory: the cog
registers ``ClipButton`` with ``bot.add_dynamic_items`` and handles the clicks.
"""

from __future__ import annotations

import re
from typing import Any, Literal, Protocol, cast

import discord

Action = Literal["regen", "style", "delete", "up", "down"]
ACTIONS: tuple[Action, ...] = ("regen", "style", "delete", "up", "down")
COG_NAME = "ReactCog"

_BUTTONS: dict[Action, tuple[str, str, discord.ButtonStyle]] = {
    "regen": ("Regenerate", "🔁", discord.ButtonStyle.primary),
    "style": ("Another style", "🎨", discord.ButtonStyle.secondary),
    "delete": ("Delete", "🗑️", discord.ButtonStyle.danger),
    "up": ("", "👍", discord.ButtonStyle.secondary),
    "down": ("", "👎", discord.ButtonStyle.secondary),
}


def custom_id(action: Action, request_id: str) -> str:
    return f"reactclip:{action}:{request_id}"


class ClipActions(Protocol):
    """What the cog does when a button is pressed."""

    async def on_clip_button(
        self, interaction: discord.Interaction, action: Action, request_id: str
    ) -> None: ...


class ClipButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"reactclip:(?P<action>regen|style|delete|up|down):(?P<request_id>[0-9a-f]{16})",
):
    def __init__(self, action: Action, request_id: str) -> None:
        label, emoji, style = _BUTTONS[action]
        super().__init__(
            discord.ui.Button(
                label=label or None, emoji=emoji, style=style, custom_id=custom_id(action, request_id)
            )
        )
        self.action: Action = action
        self.request_id = request_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ClipButton:
        return cls(cast(Action, match["action"]), match["request_id"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        get_cog = getattr(interaction.client, "get_cog", None)
        cog = get_cog(COG_NAME) if get_cog is not None else None
        if cog is None:
            await interaction.response.send_message(
                "reactclip is restarting; please try again in a minute", ephemeral=True
            )
            return
        await cast(ClipActions, cog).on_clip_button(interaction, self.action, self.request_id)


class ClipView(discord.ui.View):
    """The buttons for one posted clip. The view is stopped as soon as it is built: it is sent as
    components only, and clicks reach ``ClipButton`` through the bot's dynamic items, so no view per
    posted clip stays in memory and the buttons work the same after a restart."""

    def __init__(self, request_id: str, *, deletable: bool = True, remakeable: bool = True) -> None:
        super().__init__(timeout=None)
        for action in ACTIONS:
            if (action == "delete" and not deletable) or (action in ("regen", "style") and not remakeable):
                continue
            self.add_item(ClipButton(action, request_id))
        self.stop()
