"""Audio as a person sends it -> the words in it: decode (ffmpeg), then recognise (Vosk).

The bot's ReactionService and the CLI each hold one. The model loads on first use, not before: a bot
that only ever sees text never pays for it. Everything here is CPU-bound and blocking; on an event
loop, call it through ``asyncio.to_thread``.
"""

from __future__ import annotations

import threading
from pathlib import Path

from reactclip.speech.decode import decode_audio
from reactclip.speech.recognize import VoskTranscriber
from reactclip.speech.settings import SpeechSettings
from reactclip.speech.transcript import Transcript


class Listener:
    def __init__(self, settings: SpeechSettings, transcriber: VoskTranscriber | None = None) -> None:
        self.settings = settings
        self._transcriber = transcriber
        self._lock = threading.Lock()

    def transcriber(self) -> VoskTranscriber:
        with self._lock:
            if self._transcriber is None:
                self._transcriber = VoskTranscriber.from_settings(self.settings)
            return self._transcriber

    def transcribe(self, audio: bytes | Path) -> Transcript:
        """Every word heard in ``audio`` (a file's bytes or its path), however unsure."""
        return self.transcriber().transcribe(decode_audio(audio, self.settings))

    def hear(self, audio: bytes | Path) -> str:
        """The text to react to; NotUnderstood when nothing was made out with enough confidence."""
        return self.transcribe(audio).heard(self.settings.min_confidence)
