"""reactclip's front door: the CLI now, the Discord cog next. It wires speech, moderation and the
engine together; nothing below it imports it."""
