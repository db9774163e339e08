"""Utterances out of continuous voice, one speaker at a time: WebRTC's voice activity detector
(webrtcvad) marks each 30 ms frame speech or not, and a short window of frames decides when an
utterance starts and ends, so a cough or a breath neither opens nor cuts one.

Each utterance keeps a little audio before its first speech (``padding_s``) and ends after
``hangover_s`` of silence. One shorter than ``min_s`` of speech is dropped (a click, a "hm"); one
longer than ``max_s`` is cut there and the rest goes on as the next utterance. Speakers are
independent: one person's silence closes only their own utterance.

Pure: PCM in (16 kHz mono s16le), ``Utterance`` out; no Discord, no clock of its own.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field

import webrtcvad

from reactclip.speech.pcm import SAMPLE_RATE, duration_s

FRAME_MS = 30
FRAME_BYTES = SAMPLE_RATE * FRAME_MS // 1000 * 2
"""One VAD frame of 16 kHz mono s16le (webrtcvad takes 10, 20 or 30 ms)."""
START_RATIO = 0.6
"""Share of the window's frames that must be speech to open an utterance..."""
END_RATIO = 0.9
"""...and that must be silence to close one."""


@dataclass(frozen=True)
class SegmentSettings:
    """How utterances are cut; the defaults suit a voice channel (the issue's 0.5-15 s)."""

    min_s: float = 0.5
    max_s: float = 15.0
    padding_s: float = 0.3
    """Audio kept before the first speech, and the window that opens an utterance."""
    hangover_s: float = 0.45
    """Silence that closes an utterance (and the window that decides it)."""
    aggressiveness: int = 2
    """webrtcvad's mode, 0 (keeps most) to 3 (filters most non-speech)."""

    def __post_init__(self) -> None:
        if not 0 < self.min_s < self.max_s:
            raise ValueError(f"need 0 < min_s < max_s, not {self.min_s} and {self.max_s}")
        if self.aggressiveness not in (0, 1, 2, 3):
            raise ValueError(f"aggressiveness must be 0-3, not {self.aggressiveness}")


@dataclass(frozen=True)
class Utterance:
    """One stretch of speech by one speaker (16 kHz mono s16le). Lives only until it is transcribed."""

    speaker: Hashable
    pcm: bytes = field(repr=False)
    """Never in a repr, so never in a log line by accident."""

    @property
    def duration_s(self) -> float:
        return duration_s(self.pcm)


def _frames(seconds: float) -> int:
    return max(1, round(seconds * 1000 / FRAME_MS))


class Segmenter:
    """Utterances of one speaker's stream. ``feed`` takes PCM of any length (a partial frame waits
    for the rest); ``flush`` ends the stream (the speaker went quiet or left)."""

    def __init__(self, speaker: Hashable, settings: SegmentSettings | None = None) -> None:
        self.speaker = speaker
        self.settings = settings or SegmentSettings()
        self._vad = webrtcvad.Vad(self.settings.aggressiveness)
        self._pending = b""
        self._window: deque[bool] = deque(maxlen=_frames(self.settings.hangover_s))
        self._preroll_frames = _frames(self.settings.padding_s)
        self._preroll: deque[tuple[bytes, bool]] = deque(maxlen=self._preroll_frames)
        self._frames: list[bytes] = []
        self._voiced: list[bool] = []
        self._max_frames = _frames(self.settings.max_s)

    @property
    def in_utterance(self) -> bool:
        return bool(self._frames)

    def feed(self, pcm: bytes) -> list[Utterance]:
        data = self._pending + pcm
        whole = len(data) - len(data) % FRAME_BYTES
        self._pending = data[whole:]
        done: list[Utterance] = []
        for start in range(0, whole, FRAME_BYTES):
            frame = data[start : start + FRAME_BYTES]
            utterance = self._step(frame, self._vad.is_speech(frame, SAMPLE_RATE))
            if utterance is not None:
                done.append(utterance)
        return done

    def flush(self) -> list[Utterance]:
        """The open utterance, if it is long enough; the state is cleared either way."""
        utterance = self._close()
        self._pending = b""
        self._preroll.clear()
        return [utterance] if utterance is not None else []

    def _step(self, frame: bytes, voiced: bool) -> Utterance | None:
        if not self._frames:
            self._preroll.append((frame, voiced))
            speech = sum(v for _, v in self._preroll)
            if speech > START_RATIO * self._preroll_frames:
                self._frames = [f for f, _ in self._preroll]
                self._voiced = [v for _, v in self._preroll]
                self._window.clear()
                self._preroll.clear()
            return None
        self._frames.append(frame)
        self._voiced.append(voiced)
        self._window.append(voiced)
        window = self._window
        if len(window) == window.maxlen and window.count(False) > END_RATIO * len(window):
            return self._close()
        if len(self._frames) >= self._max_frames:
            # Cut here; while the speaker goes on, their next frames open the next utterance.
            return self._close()
        return None

    def _close(self) -> Utterance | None:
        frames, voiced = self._frames, self._voiced
        self._frames, self._voiced = [], []
        self._window.clear()
        if True not in voiced:
            return None
        first = voiced.index(True)
        last = len(voiced) - 1 - voiced[::-1].index(True)
        if (last - first + 1) * FRAME_MS / 1000 < self.settings.min_s:
            return None
        return Utterance(self.speaker, b"".join(frames))


class SpeakerSegmenters:
    """One ``Segmenter`` per speaker, and the rule that closes a quiet speaker's utterance.

    Discord sends nothing while someone is silent, so silence cannot always be heard: a speaker
    not heard for ``idle_s`` is flushed by ``close_idle``. Times are the caller's (any monotonic
    clock), which keeps this pure."""

    def __init__(self, settings: SegmentSettings | None = None, *, idle_s: float = 0.5) -> None:
        self.settings = settings or SegmentSettings()
        self.idle_s = idle_s
        self._segmenters: dict[Hashable, Segmenter] = {}
        self._heard: dict[Hashable, float] = {}

    def feed(self, speaker: Hashable, pcm: bytes, now: float) -> list[Utterance]:
        segmenter = self._segmenters.get(speaker)
        if segmenter is None:
            segmenter = self._segmenters[speaker] = Segmenter(speaker, self.settings)
        self._heard[speaker] = now
        return segmenter.feed(pcm)

    def close_idle(self, now: float) -> list[Utterance]:
        """Flush every speaker silent for ``idle_s`` or longer."""
        quiet = [s for s, heard in self._heard.items() if now - heard >= self.idle_s]
        return [utterance for speaker in quiet for utterance in self.remove(speaker)]

    def remove(self, speaker: Hashable) -> list[Utterance]:
        """Forget ``speaker`` (they left), returning their open utterance if long enough."""
        self._heard.pop(speaker, None)
        segmenter = self._segmenters.pop(speaker, None)
        return segmenter.flush() if segmenter is not None else []

    def flush_all(self) -> list[Utterance]:
        return [utterance for speaker in list(self._segmenters) for utterance in self.remove(speaker)]
