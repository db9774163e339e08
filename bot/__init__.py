"""reactclip's front door: the CLI now, the Discord cog next. It wires speech, moderation and the
engine together; nothing below it imports it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from discord.ext import commands


async def setup(bot: commands.Bot) -> None:
    """The discord.py extension entry point: ``await bot.load_extension("reactclip.bot")`` adds
    ReactCog to any bot. Imports stay inside so that importing reactclip.bot stays light. A bot
    built by ``reactclip.bot.discord.app`` hands over its settings; any other bot gets ``Settings()``
    (the environment and the config file)."""
    from reactclip.bot.discord.cog import ReactCog
    from reactclip.bot.settings import Settings

    settings = getattr(bot, "reactclip_settings", None)
    if not isinstance(settings, Settings):
        settings = Settings()
    load_models = bool(getattr(bot, "reactclip_load_models", True))
    await bot.add_cog(ReactCog(bot, settings, load_models=load_models))
