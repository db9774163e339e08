"""`reactclip generate`: a playable file for good input, one clear line and a non-zero exit otherwise."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from reactclip.bot.cli import app, slug
from reactclip.engine.encode import probe_video

REACTCLIP = Path(sys.executable).with_name("reactclip")


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The installed console script, as a user runs it."""
    return subprocess.run(
        [str(REACTCLIP), *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.slow
def test_generate_writes_a_playable_480p_clip_into_out(clean_env: Path) -> None:
    result = run_cli("generate", "I aced my exam!", cwd=clean_env)
    assert result.returncode == 0, result.stderr
    [clip] = (clean_env / "out").glob("*.mp4")
    info = probe_video(clip.read_bytes(), "mp4")
    assert (info.width, info.height, info.frames) == (832, 480, 16)
    assert (info.codec, info.pix_fmt.split("(")[0]) == ("h264", "yuv420p")
    assert f"wrote {Path('out') / clip.name}" in result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_generate_json_reports_the_clip_and_the_same_command_gives_the_same_bytes(clean_env: Path) -> None:
    args = ("generate", "so gross ewww", "--format", "gif", "--size", "480x480", "--frames", "8", "--json")
    first = run_cli(*args, "--out", "a.gif", cwd=clean_env)
    assert first.returncode == 0, first.stderr
    meta = json.loads(first.stdout)
    assert meta["path"] == "a.gif" and meta["format"] == "gif"
    assert (meta["width"], meta["height"], meta["frames"]) == (480, 480, 8)
    assert meta["backend"] == "sticker" and meta["variant"] == "sticker-v1"
    assert meta["spec"]["mood"] == "disgust"
    assert {"cache_hit", "degraded", "seed", "timings"} <= meta.keys()
    assert meta["cache_hit"] is False and meta["degraded"] is False
    second = run_cli(*args, "--out", "b.gif", cwd=clean_env)
    assert (clean_env / "a.gif").read_bytes() == (clean_env / "b.gif").read_bytes()
    again = json.loads(second.stdout)
    assert again["cache_hit"] is True and again["seed"] == meta["seed"]


def test_generate_with_the_tiny_wan_backend(clean_env: Path) -> None:
    out = clean_env / "tiny.mp4"
    result = CliRunner().invoke(
        app,
        ["generate", "hello", "--backend", "tiny", "--size", "320x240", "--frames", "8", "--steps", "2",
         "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    info = probe_video(out.read_bytes(), "mp4")
    assert (info.width, info.height, info.frames) == (320, 240, 8)
    assert "with tiny" in result.output


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (["--size", "833x480"], "width: 833 is not allowed", 2),
        (["--size", "huge"], "size: 'huge' is not WIDTHxHEIGHT", 2),
        (["--frames", "40"], "frames: 40 is outside 8-16", 2),
        (["--steps", "0"], "steps: 0 is outside 1-100", 2),
        (["--guidance", "50"], "guidance: 50.0 is outside", 2),
        (["--format", "avi"], "format: 'avi' is not one of mp4, gif, webp", 2),
        (["--backend", "magic"], "backend 'magic' is not one of auto, wan, tiny, sticker", 2),
        (["--mood", "bored"], "mood: 'bored' is not one of", 2),
        (["--style", "oil"], "style: 'oil' is not one of", 2),
    ],
)
def test_bad_input_gives_one_clear_line_and_a_nonzero_exit(
    clean_env: Path, args: list[str], message: str, code: int
) -> None:
    result = CliRunner().invoke(app, ["generate", "hi", *args, "--out", str(clean_env / "x.mp4")])
    assert result.exit_code == code
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.output
    assert not (clean_env / "x.mp4").exists()


def test_wan_without_cuda_or_weights_is_one_clear_line(clean_env: Path) -> None:
    result = CliRunner().invoke(
        app, ["generate", "hi", "--backend", "wan", "--model", str(clean_env / "nowhere")]
    )
    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    expected = "no Wan weights" if torch.cuda.is_available() else "needs a CUDA GPU"
    assert expected in line and "Traceback" not in result.output


def test_empty_text_is_refused_politely(clean_env: Path) -> None:
    result = CliRunner().invoke(app, ["generate", "   "])
    assert result.exit_code == 2
    assert "there is nothing to react to" in result.output


def test_slug_is_file_name_safe() -> None:
    assert slug("I aced my exam!!! 🎉") == "i-aced-my-exam"
    assert slug("🎉🎉") == "clip"
    assert len(slug("word " * 40)) <= 32


@pytest.mark.slow
def test_analyze_jsonl_answers_every_line_in_order_with_the_promised_fields(clean_env: Path) -> None:
    lines = ["I aced my exam!!", "", "k y s loser", "make a clip of a dancing cat"] * 300
    result = subprocess.run(
        [str(REACTCLIP), "analyze", "--jsonl"],
        input="\n".join(lines) + "\n",
        cwd=clean_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(answers) == len(lines)
    promised = {"emotion", "intensity", "allowed", "category", "reason", "prompt", "negative_prompt"}
    assert all(promised <= a.keys() for a in answers)
    assert all(a.keys() == answers[0].keys() for a in answers)  # one row shape, empty lines included
    joy, empty, abuse, cat = answers[:4]
    assert joy["allowed"] and joy["emotion"] == "joy" and joy["prompt"]
    assert not empty["allowed"] and empty["reason"] == "there is nothing to react to"
    assert not abuse["allowed"] and abuse["category"] == "harassment" and abuse["prompt"] is None
    assert cat["allowed"] and "dancing cat" in cat["prompt"]
    assert answers[4:8] == answers[:4]


def test_generate_refuses_unsafe_text_politely_with_exit_3_and_writes_nothing(clean_env: Path) -> None:
    out = clean_env / "x.mp4"
    result = CliRunner().invoke(app, ["generate", "k y s loser nobody likes you", "--out", str(out)])
    assert result.exit_code == 3
    [line] = result.output.strip().splitlines()
    assert line.startswith("reactclip: ") and "Traceback" not in result.output
    assert not out.exists()


def test_nsfw_channel_flag_changes_what_is_allowed(clean_env: Path) -> None:
    text = "make a video of her naked body"
    normal = CliRunner().invoke(app, ["analyze", text])
    nsfw = CliRunner().invoke(app, ["analyze", text, "--nsfw-channel"])
    assert "refused (sexual" in normal.output
    assert "verdict:   allowed" in nsfw.output


def test_analyze_needs_exactly_one_source_of_text(clean_env: Path) -> None:
    result = CliRunner().invoke(app, ["analyze"])
    assert result.exit_code == 2
    assert "give either a TEXT or --jsonl" in result.output
