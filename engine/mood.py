"""The emotion vocabulary shared by prompting, the sticker renderer and (later) moderation-free
routing: one place, so a new mood cannot be known to one part and missing from another."""

from enum import StrEnum


class Mood(StrEnum):
    JOY = "joy"
    LOVE = "love"
    SADNESS = "sadness"
    ANGER = "anger"
    FEAR = "fear"
    SURPRISE = "surprise"
    DISGUST = "disgust"
    NEUTRAL = "neutral"


class Intensity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
