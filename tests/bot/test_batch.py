"""``reactclip batch``: drafts of many lines through the one pipeline at batch priority, a manifest
and a contact sheet, every unusable line said, and a second run that resumes from the cache."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from recording_backends import SlowBackend
from test_cli import REACTCLIP, run_cli

from reactclip.bot.batch import (
    CONTACT_SHEET,
    MANIFEST,
    Draft,
    drafts_of,
    read_batch,
    run_batch,
    write_manifest,
)
from reactclip.bot.contact_sheet import THUMB_WIDTH
from reactclip.bot.errors import UserInputError
from reactclip.bot.service import ReactionService, frame_hooks
from reactclip.bot.settings import Settings
from reactclip.engine.cache import LocalClipStore
from reactclip.engine.encode import probe_video
from reactclip.engine.executor import InProcessExecutor
from reactclip.engine.service import key_function
from reactclip.moderation.frames import FrameModerator


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_text_lines_become_one_draft_each_and_unusable_lines_are_named(tmp_path: Path) -> None:
    source = write(tmp_path / "topics.txt", "I aced my exam!\n\n   \nwe won the cup\n" + "x" * 501 + "\n")
    lines, problems = read_batch(source)
    assert [(line.number, line.text, line.count) for line in lines] == [
        (1, "I aced my exam!", 1),
        (4, "we won the cup", 1),
    ]
    assert [str(problem) for problem in problems] == ["line 5: the text is 501 characters; at most 500"]


def test_a_csv_gives_style_frames_seed_and_count_and_each_bad_row_its_own_problem(tmp_path: Path) -> None:
    source = write(
        tmp_path / "drafts.csv",
        "text,style,frames,seed,count\n"
        "I aced my exam!,anime,8,7,2\n"
        "so tired today,,,,\n"
        "bad frames,,99,,\n"
        "bad seed,,,-3,\n"
        "not a number,,twelve,,\n"
        '"too, many",a,8,1,1,surplus\n'
        ",anime,8,,\n",
    )
    lines, problems = read_batch(source)
    first, second = lines
    assert (first.text, first.style, first.frames, first.seed, first.count) == (
        "I aced my exam!",
        "anime",
        8,
        7,
        2,
    )
    assert (second.style, second.frames, second.seed, second.count) == (None, None, None, 1)
    assert [(p.number, p.message) for p in problems] == [
        (4, "frames 99 is outside 8-16"),
        (5, f"seed -3 is outside 0-{2**32 - 1}"),
        (6, "frames 'twelve' is not a whole number"),
        (7, "malformed row: 6 fields for 5 columns"),
        (8, "the text is empty"),
    ]
    drafts = drafts_of(lines)
    assert [(d.id, d.seed) for d in drafts][:2] == [("0002-1", 7), ("0002-2", 8)]
    assert drafts_of(lines) == drafts  # the same file always gives the same drafts (and cache keys)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.txt", None, "does not exist"),
        ("empty.txt", "\n \n", "has no lines"),
        ("nocol.csv", "message,style\nhi,anime\n", "needs a 'text' column"),
        ("extra.csv", "text,colour\nhi,red\n", "unknown CSV columns colour"),
        ("binary.txt", b"\xff\xfe\x00bad", "cannot be read as UTF-8"),
    ],
)
def test_a_file_that_cannot_be_used_is_one_clear_error(
    tmp_path: Path, name: str, content: str | bytes | None, message: str
) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(UserInputError, match=message):
        read_batch(path)


@pytest.mark.slow
def test_batch_writes_drafts_a_manifest_and_a_contact_sheet_and_a_second_run_resumes(clean_env: Path) -> None:
    source = write(
        clean_env / "today.csv",
        "text,style,count\nI aced my exam!,,2\nwe won the finals!!,pixel art,1\n"
        "k.y.s nobody wants you here,,1\nthe cat knocked my coffee over,no such style,1\n",
    )
    first = run_cli("batch", str(source), "--out", "drafts", "--backend", "sticker", cwd=clean_env)
    assert first.returncode == 1, first.stderr  # one draft failed (an unknown style)
    assert "Traceback" not in first.stderr
    assert "draft 0004-1 (line 4) refused: harassment" in first.stderr
    assert "draft 0005-1 (line 5) failed" in first.stderr and "no such style" in first.stderr
    assert "3 drafts in drafts, 1 refused, 1 failed" in first.stdout
    out = clean_env / "drafts"
    manifest = json.loads((out / MANIFEST).read_text())
    drafts = {d["id"]: d for d in manifest["drafts"]}
    assert [d["status"] for d in drafts.values()] == ["done", "done", "done", "refused", "failed"]
    done = [d for d in drafts.values() if d["status"] == "done"]
    for draft in done:
        info = probe_video((out / draft["clip"]).read_bytes(), "mp4")
        assert (info.width, info.height) == (draft["spec"]["width"], draft["spec"]["height"])
        assert draft["verdicts"]["text"]["allowed"] and draft["verdicts"]["frames"]["allowed"]
        assert draft["backend"] == "sticker" and draft["timings"]["rendering"] > 0
    assert drafts["0002-1"]["seed"] != drafts["0002-2"]["seed"]  # two drafts of one line differ
    assert drafts["0003-1"]["spec"]["style"] == "pixel art"
    assert drafts["0004-1"]["verdicts"]["text"]["category"] == "harassment"
    assert drafts["0004-1"]["clip"] is None and not list((out / "clips").glob("0004-*"))
    sheet = Image.open(out / CONTACT_SHEET)
    assert sheet.width == 3 * THUMB_WIDTH and sheet.format == "PNG"

    again = run_cli("batch", str(source), "--out", "drafts", "--backend", "sticker", cwd=clean_env)
    assert again.returncode == 1
    resumed = {d["id"]: d for d in json.loads((out / MANIFEST).read_text())["drafts"]}
    assert all(resumed[d["id"]]["cache_hit"] for d in done)  # served from the clip cache, not redrawn
    assert all((out / resumed[d["id"]]["clip"]).read_bytes() == (out / d["clip"]).read_bytes() for d in done)


@pytest.mark.slow
def test_stopping_keeps_what_was_finished_and_the_rest_queued(
    clean_env: Path, text_models: dict[str, Any], tmp_path: Path
) -> None:
    settings = Settings()
    frames = FrameModerator()
    executor = InProcessExecutor(
        lambda name: SlowBackend(delay_s=0.5),
        store=LocalClipStore(tmp_path / "cache", 10**8),
        key_fn=key_function(settings.engine.model_copy(update={"backend": "sticker"})),
        **frame_hooks(frames),
    )
    service = ReactionService(
        settings, text_models["embedder"], text_models["moderator"], text_models["emotion"], frames, executor
    )
    lines, _ = read_batch(write(tmp_path / "t.txt", "\n".join(f"we won game {n}!" for n in range(6))))
    drafts = drafts_of(lines)
    out = tmp_path / "out"
    (out / "clips").mkdir(parents=True)

    async def stop_after_the_first() -> None:
        first_done = asyncio.Event()
        task = asyncio.create_task(
            run_batch(service, drafts, out, on_done=lambda _: first_done.set(), concurrency=1)
        )
        await first_done.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await service.aclose(drain=False)

    asyncio.run(stop_after_the_first())
    statuses = [draft.status for draft in drafts]
    assert statuses[0] == "done" and "queued" in statuses
    write_manifest(out, tmp_path / "t.txt", drafts, [])
    kept = json.loads((out / MANIFEST).read_text())["drafts"]
    assert [d["status"] for d in kept] == statuses
    assert isinstance(drafts[0], Draft) and (out / str(drafts[0].clip)).is_file()


@pytest.mark.slow
def test_ctrl_c_stops_the_command_cleanly_and_running_it_again_resumes(clean_env: Path) -> None:
    """The real command in its own process, on the cost-model backend (a clip takes about a second):
    SIGINT once a draft is written, then the same command again."""
    source = write(clean_env / "day.txt", "\n".join(f"we won game {n}!!" for n in range(1, 7)))
    env = {
        **os.environ,
        "REACTCLIP_ENGINE__BACKEND": "cost-model",
        "REACTCLIP_ENGINE__COST_MODEL__SCALE": "0.3",
    }
    command = [str(REACTCLIP), "batch", str(source), "--out", "drafts"]
    process = subprocess.Popen(
        command, cwd=clean_env, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    clips = clean_env / "drafts" / "clips"
    deadline = time.monotonic() + 120
    while not (clips.is_dir() and any(clips.iterdir())):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "stopped with" in out and "run the same command to resume" in out and "Traceback" not in err
    stopped = {
        d["id"]: d["status"] for d in json.loads((clean_env / "drafts" / MANIFEST).read_text())["drafts"]
    }
    finished = [draft_id for draft_id, status in stopped.items() if status == "done"]
    assert finished and "queued" in stopped.values()

    again = subprocess.run(command, cwd=clean_env, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    resumed = {d["id"]: d for d in json.loads((clean_env / "drafts" / MANIFEST).read_text())["drafts"]}
    assert all(d["status"] == "done" for d in resumed.values())
    assert all(resumed[draft_id]["cache_hit"] for draft_id in finished)  # not made twice
