"""`reactclip doctor`: what will happen here, said before anyone asks for a clip; never a secret."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from typer.testing import CliRunner

from reactclip.bot.cli import app


def doctor(monkeypatch: pytest.MonkeyPatch, **env: str) -> tuple[int, dict[str, dict[str, Any]], str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["doctor", "--json"])
    findings = {finding["name"]: finding for finding in json.loads(result.stdout)}
    return result.exit_code, findings, result.output


def test_on_embedded_defaults_it_says_what_answers_and_how_fast(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, findings, _ = doctor(monkeypatch)
    assert code == 0
    assert findings["gpu"]["facts"]["cuda"] is torch.cuda.is_available()
    if not torch.cuda.is_available():
        assert findings["backend"]["facts"]["backend"] == "sticker"
        assert "no CUDA GPU" in findings["backend"]["summary"]
        assert 0 < findings["speed"]["facts"]["seconds_per_clip"] < 30  # measured, one real clip
        assert findings["memory plan"]["facts"] == {"plan": None}
        assert "a 24 GB card would get" in findings["memory plan"]["summary"]
    assert findings["ffmpeg"]["level"] == "ok" and Path(findings["ffmpeg"]["facts"]["path"]).is_file()
    assert findings["redis"]["facts"] == {"used": False}
    assert findings["weights:default"]["facts"]["path"] is None  # no weights on these machines
    assert findings["discord token"]["facts"] == {"present": False}


def test_the_token_is_reported_present_and_never_shown(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, findings, output = doctor(monkeypatch, REACTCLIP_DISCORD__TOKEN="very-secret-token-value")
    assert findings["discord token"]["facts"] == {"present": True}
    assert "very-secret-token-value" not in output


def test_a_vosk_model_in_place_is_found(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, vosk_ko_model: Path
) -> None:
    _, findings, _ = doctor(monkeypatch, REACTCLIP_VOSK_MODEL=str(vosk_ko_model))
    assert findings["vosk"]["level"] == "ok" and findings["vosk"]["facts"]["path"] == str(vosk_ko_model)


def test_redis_is_checked_where_the_settings_use_it(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, redis_url: str
) -> None:
    code, findings, _ = doctor(
        monkeypatch, REACTCLIP_ENGINE__CACHE__STORE="redis", REACTCLIP_ENGINE__REDIS_URL=redis_url
    )
    assert code == 0 and findings["redis"]["facts"] == {"used": True, "reachable": True}
    code, findings, _ = doctor(monkeypatch, REACTCLIP_ENGINE__REDIS_URL="redis://127.0.0.1:1/0")
    assert code == 1 and findings["redis"]["level"] == "problem"
    assert "the clip store need Redis, which does not answer" in findings["redis"]["summary"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="a machine with a GPU can run wan")
def test_wan_configured_where_it_cannot_run_is_a_problem(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, findings, _ = doctor(monkeypatch, REACTCLIP_ENGINE__BACKEND="wan")
    assert code == 1
    assert findings["backend"]["level"] == "problem" and "no CUDA GPU" in findings["backend"]["summary"]
    assert findings["weights:default"]["level"] == "problem"
