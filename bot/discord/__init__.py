"""reactclip on Discord: the cog (slash command, message menu, DMs and mentions), its buttons, limits,
progress edits and per-guild settings. ``build_bot`` runs it standalone; ``reactclip.bot``'s
``setup`` loads it into anyone's bot."""
