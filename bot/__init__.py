"""reactclip's front door: the CLI and the Discord cogs, both through the ReactionService
(service.py), which wires speech, moderation and the engine together; nothing below it imports it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from discord.ext import commands


async def setup(bot: commands.Bot) -> None:
    """The discord.py extension entry point: ``await bot.load_extension("reactclip.bot")`` adds
    ReactCog and the /reactclip commands to any bot. Imports stay inside so that importing
    reactclip.bot stays light. A bot built by ``reactclip.bot.discord.app`` hands over its settings;
    any other bot gets ``Settings()`` (the environment and the config file)."""
    from reactclip.bot.discord.reactions import ReactCog
    from reactclip.bot.discord.server import add_cogs
    from reactclip.bot.settings import Settings

    settings = getattr(bot, "reactclip_settings", None)
    if not isinstance(settings, Settings):
        settings = Settings()
    load_models = bool(getattr(bot, "reactclip_load_models", True))
    await add_cogs(bot, ReactCog(bot, settings, load_models=load_models))
