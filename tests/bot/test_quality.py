"""quality:high: a slower, finer preview (more steps, all 16 frames) queued behind chat reactions;
where only the sticker renderer runs, the normal clip and a note that says so, never a pretence."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from fakediscord import FakeDiscord, plugin
from recording_backends import SlowBackend
from test_cli import run_cli
from test_discord_e2e import ClipBot, clip_edit, payload, run
from test_service import NORMAL_ORIGIN, service

from reactclip.bot.events import Finished
from reactclip.bot.request import HIGH_QUALITY_STEPS, Options, Request
from reactclip.bot.service import HIGH_QUALITY_UNAVAILABLE
from reactclip.engine.spec import MAX_FRAMES, GenerationSpec

fake_discord = plugin.fake_discord
pytestmark = pytest.mark.slow
HIGH = Options(quality="high")


def test_a_high_quality_preview_takes_more_steps_and_waits_behind_chat_reactions(
    clean_env: Path, text_models: dict[str, Any]
) -> None:
    gpu = SlowBackend(delay_s=0.4)
    orch = service(text_models, gpu)

    async def scenario() -> list[Finished]:
        async def finish(request: Request) -> Finished:
            events = [event async for event in orch.handle(request)]
            assert isinstance(events[-1], Finished), events[-1]
            return events[-1]

        try:
            busy = asyncio.create_task(finish(Request("good morning everyone", NORMAL_ORIGIN)))
            while not gpu.calls:  # the GPU is busy with it
                await asyncio.sleep(0.01)
            high = asyncio.create_task(finish(Request("I aced my exam!!", NORMAL_ORIGIN, HIGH)))
            await asyncio.sleep(0.2)  # queued first
            chat = asyncio.create_task(finish(Request("we won the finals!!", NORMAL_ORIGIN)))
            return list(await asyncio.gather(busy, high, chat))
        finally:
            await orch.aclose()

    _, high, chat = asyncio.run(scenario())
    rendered: list[GenerationSpec] = [spec for call in gpu.calls for spec in call]
    assert [spec.prompt for spec in rendered][1:] == [chat.clip.spec.prompt, high.clip.spec.prompt]
    assert (high.clip.spec.steps, high.clip.spec.frames) == (HIGH_QUALITY_STEPS, MAX_FRAMES)
    assert (high.clip.spec.width, high.clip.spec.height) == (832, 480) and high.note is None
    assert chat.clip.spec.steps == GenerationSpec(prompt="x").steps


def test_with_only_the_sticker_renderer_a_high_quality_request_gets_the_normal_clip_and_says_so(
    clean_env: Path, text_models: dict[str, Any], recording_backend: Any
) -> None:
    orch = service(text_models, recording_backend)  # the real sticker renderer

    async def scenario() -> list[Any]:
        try:
            return [event async for event in orch.handle(Request("I aced my exam!!", NORMAL_ORIGIN, HIGH))]
        finally:
            await orch.aclose()

    finished = asyncio.run(scenario())[-1]
    assert isinstance(finished, Finished) and finished.note == HIGH_QUALITY_UNAVAILABLE
    assert finished.clip.spec.steps == GenerationSpec(prompt="x").steps  # the normal clip, as said


def test_the_cli_takes_quality_and_says_when_it_cannot_be_had(clean_env: Path) -> None:
    result = run_cli("generate", "I aced my exam!", "--quality", "high", "--json", cwd=clean_env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["note"] == HIGH_QUALITY_UNAVAILABLE
    assert f"reactclip: {HIGH_QUALITY_UNAVAILABLE}" in result.stderr
    wrong = run_cli("generate", "I aced my exam!", "--quality", "ultra", cwd=clean_env)
    assert wrong.returncode == 2 and "quality 'ultra' is not one of normal, high" in wrong.stderr


def test_react_quality_high_on_discord_shows_the_note_beside_the_clip(
    fake_discord: FakeDiscord, clean_env: Path, text_models: dict[str, Any], recording_backend: Any
) -> None:
    bot = ClipBot(text_models, recording_backend, clean_env / "guilds.sqlite3")

    async def scenario() -> None:
        [react] = [c for c in fake_discord.commands[fake_discord.world.guild.id] if c["name"] == "react"]
        quality = next(o for o in react["options"] if o["name"] == "quality")
        assert [c["value"] for c in quality["choices"]] == ["normal", "high"]
        ref = await fake_discord.slash("react", {"text": "I aced my exam!!", "quality": "high"})
        final = payload(await fake_discord.wait_for(clip_edit(ref.token), timeout=60))
        assert HIGH_QUALITY_UNAVAILABLE in final["content"] and final["attachments"]

    run(fake_discord, bot, scenario)
