"""What can go wrong with speech, as typed errors whose ``str`` is the polite line to show.

The bot's one error handler (``reactclip.bot.errors.describe``) shows these lines as they are;
``AudioError`` and ``NotUnderstood`` are the sender's audio, the others the service's setup.
"""

from __future__ import annotations

SUPPORTED_AUDIO = "OGG/Opus (a voice message), MP3, M4A, WAV or WebM"


class SpeechError(Exception):
    """Anything in ``speech/`` that stops a request; ``str(exc)`` is the line to show."""


class AudioError(SpeechError):
    """The audio itself can't be used (the sender's file, not the service)."""


class EmptyAudio(AudioError):
    def __init__(self, what: str = "that audio is empty") -> None:
        super().__init__(f"{what}; please record something and send it again")


class NotAudio(AudioError):
    def __init__(self, what: str = "that doesn't look like audio") -> None:
        super().__init__(f"{what}; please send {SUPPORTED_AUDIO}")


class TruncatedAudio(AudioError):
    def __init__(self) -> None:
        super().__init__("that audio is cut off (only part of the file arrived); please send it again")


class AudioTooLarge(AudioError):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            f"that audio is too large ({size / 1024 / 1024:.1f} MiB; the limit is "
            f"{limit / 1024 / 1024:.1f} MiB); please send a shorter recording"
        )


class AudioTooLong(AudioError):
    def __init__(self, limit_s: float, seconds: float | None = None) -> None:
        length = f" ({seconds:.0f} s)" if seconds is not None else ""
        super().__init__(f"that audio is too long{length}; please keep it under {limit_s:g} seconds")


class DecodeTimeout(SpeechError):
    def __init__(self, timeout_s: float) -> None:
        super().__init__(f"reading that audio took longer than {timeout_s:g} s; please try a shorter one")


class NotUnderstood(SpeechError):
    """No words, or words too unsure to act on: a clip of a guess would be a random clip."""

    def __init__(self) -> None:
        super().__init__(
            "sorry, I couldn't make that out; please try again, a little slower or closer to the mic"
        )


class SpeechModelError(SpeechError):
    """The speech model is missing or unusable, or could not be downloaded: the operator's setup."""
