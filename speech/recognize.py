"""PCM -> Transcript with Vosk (Kaldi), offline. One ``vosk.Model`` per model directory per process,
shared by every recognizer (a model is read-only once loaded; a recognizer is one stream's state).

Recognition is CPU-bound: on an event loop, call it through ``asyncio.to_thread``.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import vosk

from reactclip.speech.errors import SpeechModelError
from reactclip.speech.models import check_model_dir
from reactclip.speech.pcm import BYTES_PER_SECOND, SAMPLE_RATE
from reactclip.speech.settings import SpeechSettings
from reactclip.speech.transcript import Transcript, Word

CHUNK_BYTES = BYTES_PER_SECOND // 4
"""PCM given to Kaldi per call: a quarter second, the step at which Vosk checks for a segment end."""

_models: dict[Path, vosk.Model] = {}
_models_lock = threading.Lock()


def shared_model(path: Path) -> vosk.Model:
    """The model at ``path``, loaded on first use and then shared by the whole process."""
    path = path.expanduser().resolve()
    with _models_lock:
        model = _models.get(path)
        if model is None:
            check_model_dir(path)
            vosk.SetLogLevel(-1)  # Kaldi logs every load to stderr
            try:
                model = vosk.Model(str(path))
            except Exception as exc:  # vosk raises a bare Exception for a model it can't read
                raise SpeechModelError(f"the Vosk model at {path} could not be loaded: {exc}") from None
            _models[path] = model
        return model


class RecognitionStream:
    """One utterance or file being recognised: ``feed`` PCM as it arrives and read the words so far
    (final segments plus the current guess), or ``accept`` it when no partial is wanted; then
    ``finish`` once for the transcript."""

    def __init__(self, model: vosk.Model) -> None:
        self._recognizer = vosk.KaldiRecognizer(model, SAMPLE_RATE)
        self._recognizer.SetWords(True)
        self._recognizer.SetPartialWords(True)
        self._final: list[Word] = []
        self._bytes = 0

    def accept(self, pcm: bytes) -> None:
        """Recognise ``pcm`` (16 kHz mono s16le, any length) without asking for a partial result:
        a partial with word timings costs a lattice alignment, so only ``feed`` asks for one."""
        for start in range(0, len(pcm), CHUNK_BYTES):
            chunk = pcm[start : start + CHUNK_BYTES]
            self._bytes += len(chunk)
            if self._recognizer.AcceptWaveform(chunk):
                # Vosk decided a segment ended: its words are final.
                self._final += _words(json.loads(self._recognizer.Result()), "result")

    def feed(self, pcm: bytes) -> Transcript:
        """``accept`` ``pcm``, then the words so far: final segments and the current guess."""
        self.accept(pcm)
        partial = _words(json.loads(self._recognizer.PartialResult()), "partial_result")
        return self._transcript(partial)

    def finish(self) -> Transcript:
        self._final += _words(json.loads(self._recognizer.FinalResult()), "result")
        return self._transcript([])

    def _transcript(self, partial: list[Word]) -> Transcript:
        return Transcript(words=(*self._final, *partial), duration_s=self._bytes / BYTES_PER_SECOND)


def _words(result: dict[str, Any], key: str) -> list[Word]:
    return [
        Word(text=w["word"], start=float(w["start"]), end=float(w["end"]), confidence=float(w["conf"]))
        for w in result.get(key, ())
    ]


class VoskTranscriber:
    """Speech to text with one Vosk model. Thread-safe: each call gets its own recognizer."""

    def __init__(self, model_dir: Path) -> None:
        self.model_dir = model_dir
        self.model = shared_model(model_dir)

    @classmethod
    def from_settings(cls, settings: SpeechSettings) -> VoskTranscriber:
        return cls(settings.vosk_model)

    def stream(self) -> RecognitionStream:
        return RecognitionStream(self.model)

    def transcribe(self, pcm: bytes) -> Transcript:
        """The words in ``pcm`` (16 kHz mono s16le) with their timings and confidences."""
        stream = self.stream()
        stream.accept(pcm)
        return stream.finish()
