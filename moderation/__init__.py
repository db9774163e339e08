"""reactclip's moderation package: text verdicts before generation, frame verdicts after.

Filled in by the understanding issue; it imports nothing of the engine, bot or speech.
"""
