"""One settings object: REACTCLIP_ environment variables over an optional TOML file."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from reactclip.bot.settings import Settings


def test_defaults_run_on_embedded_defaults(clean_env: Path) -> None:
    settings = Settings()
    assert settings.engine.backend == "auto"
    assert settings.engine.wan.model == "Wan-AI/Wan2.2-TI2V-5B-Diffusers"
    assert settings.engine.upload_limit_bytes == 10 * 1024 * 1024


def test_environment_overrides_the_toml_file(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = clean_env / "reactclip.toml"
    config.write_text('[engine]\nbackend = "tiny"\n[engine.wan]\nscheduler = "dpm"\nflow_shift = 3.0\n')
    monkeypatch.setenv("REACTCLIP_CONFIG", str(config))
    monkeypatch.setenv("REACTCLIP_ENGINE__WAN__FLOW_SHIFT", "4.5")
    settings = Settings()
    assert settings.engine.backend == "tiny"
    assert settings.engine.wan.scheduler == "dpm"
    assert settings.engine.wan.flow_shift == 4.5


def test_the_default_config_file_in_the_home_folder_is_read(clean_env: Path) -> None:
    folder = clean_env / ".config" / "reactclip"
    folder.mkdir(parents=True)
    (folder / "config.toml").write_text('[engine]\nbackend = "sticker"\n')
    # DEFAULT_CONFIG_PATH is resolved at import; point it at this test's home.
    import reactclip.bot.settings as module

    original = module.DEFAULT_CONFIG_PATH
    module.DEFAULT_CONFIG_PATH = folder / "config.toml"
    try:
        assert Settings().engine.backend == "sticker"
    finally:
        module.DEFAULT_CONFIG_PATH = original


def test_bad_values_are_refused(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REACTCLIP_ENGINE__BACKEND", "quantum")
    with pytest.raises(ValidationError, match="backend"):
        Settings()


def test_the_vosk_model_is_read_from_reactclip_vosk_model(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    default = Settings().speech.vosk_model
    assert default == clean_env / ".local/share/reactclip/vosk/vosk-model-small-en-us-0.15"
    monkeypatch.setenv("REACTCLIP_VOSK_MODEL", "~/models/vosk-small")
    monkeypatch.setenv("REACTCLIP_SPEECH__MIN_CONFIDENCE", "0.7")
    settings = Settings()
    assert settings.speech.vosk_model == clean_env / "models/vosk-small"
    assert settings.speech.min_confidence == 0.7  # the short name leaves the rest of the section
    monkeypatch.setenv("REACTCLIP_SPEECH__VOSK_MODEL", "/srv/vosk")
    assert Settings().speech.vosk_model == Path("/srv/vosk")  # the full name wins


def test_speech_limits_come_from_the_toml_file(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = clean_env / "reactclip.toml"
    config.write_text('[speech]\nmax_duration_s = 30\nvosk_model = "/srv/vosk"\n')
    monkeypatch.setenv("REACTCLIP_CONFIG", str(config))
    monkeypatch.setenv("REACTCLIP_VOSK_MODEL", "/opt/vosk")
    settings = Settings()
    assert settings.speech.max_duration_s == 30
    assert settings.speech.vosk_model == Path("/opt/vosk")  # the environment over the file
    monkeypatch.setenv("REACTCLIP_SPEECH__MIN_CONFIDENCE", "1.5")
    with pytest.raises(ValidationError):
        Settings()
