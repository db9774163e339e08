"""What an operator watches: the request metrics the service records from its events, the engine's
metrics and executor state on /metrics, /health and /ready over real HTTP, and JSON log lines that
name the request."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from fakediscord import FakeDiscord, plugin
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from test_discord_e2e import ClipBot, clip_edit, payload, run
from test_service import service
from test_workers import free_port

from reactclip.bot.discord.app import build_bot
from reactclip.bot.discord.settings import DiscordSettings
from reactclip.bot.events import Failed, Finished, Refusal
from reactclip.bot.logs import configure_logging
from reactclip.bot.monitoring import MonitoringServer
from reactclip.bot.request import Options, Origin, Request, hash_user
from reactclip.bot.service import ReactionService
from reactclip.bot.settings import MonitoringSettings, Settings
from reactclip.engine.metrics import ExecutorCollector

fake_discord = plugin.fake_discord
pytestmark = pytest.mark.slow

ORIGIN = Origin("slash", hash_user(7))
SMALL = Options(size=(320, 240), frames=8)


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def answer(orch: ReactionService, text: str, options: Options = SMALL) -> Any:
    """The last event of one request."""
    events = [event async for event in orch.handle(Request(text, ORIGIN, options))]
    return events[-1]


def test_each_request_is_counted_by_entry_point_and_outcome_with_its_stages(
    clean_env: Any, text_models: dict[str, Any], recording_backend: Any
) -> None:
    before = {
        "clip": sample("reactclip_requests_total", entry="slash", outcome="clip"),
        "refused": sample("reactclip_requests_total", entry="slash", outcome="refused"),
        "bad_input": sample("reactclip_requests_total", entry="slash", outcome="bad_input"),
        "harassment": sample("reactclip_refusals_total", entry="slash", category="harassment"),
        "analysis": sample("reactclip_stage_seconds_count", stage="analysis"),
        "queue_wait": sample("reactclip_stage_seconds_count", stage="queue_wait"),
        "end_to_end": sample("reactclip_stage_seconds_count", stage="end_to_end"),
        "render": sample("reactclip_render_seconds_count", backend=recording_backend.name, variant="default"),
        "batch": sample("reactclip_batch_size_count", priority="interactive"),
        "variant": sample("reactclip_variant_seconds_count", variant=recording_backend.variant),
    }
    blocks_before = sum(
        sample("reactclip_moderation_blocks_total", category="harassment", layer=layer)
        for layer in ("lexicon", "semantic", "classifier", "policy")
    )
    orch = service(text_models, recording_backend)

    async def scenario() -> list[Any]:
        try:
            return [
                await answer(orch, "I aced my exam!!"),
                await answer(orch, "k.y.s nobody wants you here"),
                await answer(orch, "we won!!", Options(style="no such style")),
            ]
        finally:
            await orch.aclose()

    clip, refused, bad = asyncio.run(scenario())
    assert isinstance(clip, Finished) and isinstance(refused, Refusal) and isinstance(bad, Failed)
    assert sample("reactclip_requests_total", entry="slash", outcome="clip") == before["clip"] + 1
    assert sample("reactclip_requests_total", entry="slash", outcome="refused") == before["refused"] + 1
    assert sample("reactclip_requests_total", entry="slash", outcome="bad_input") == before["bad_input"] + 1
    assert (
        sample("reactclip_refusals_total", entry="slash", category="harassment") == before["harassment"] + 1
    )
    blocks = sum(
        sample("reactclip_moderation_blocks_total", category="harassment", layer=layer)
        for layer in ("lexicon", "semantic", "classifier", "policy")
    )
    assert blocks == blocks_before + 1
    # Every request is analysed; only the clip waited in the queue, rendered and ended.
    assert sample("reactclip_stage_seconds_count", stage="analysis") == before["analysis"] + 2
    assert sample("reactclip_stage_seconds_count", stage="queue_wait") == before["queue_wait"] + 1
    assert sample("reactclip_stage_seconds_count", stage="end_to_end") == before["end_to_end"] + 1
    assert (
        sample("reactclip_render_seconds_count", backend=recording_backend.name, variant="default")
        == before["render"] + 1
    )
    assert sample("reactclip_batch_size_count", priority="interactive") == before["batch"] + 1
    assert sample("reactclip_variant_seconds_count", variant=clip.clip.variant) == before["variant"] + 1


def test_a_caller_that_leaves_is_counted_as_cancelled(
    clean_env: Any, text_models: dict[str, Any], recording_backend: Any
) -> None:
    before = sample("reactclip_requests_total", entry="slash", outcome="cancelled")
    orch = service(text_models, recording_backend)

    async def scenario() -> None:
        try:
            async for _ in orch.handle(Request("I aced my exam!!", ORIGIN, SMALL)):
                break  # the interaction went away after the first event
        finally:
            await orch.aclose()

    asyncio.run(scenario())
    assert sample("reactclip_requests_total", entry="slash", outcome="cancelled") == before + 1


async def get(session: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with session.get(url) as response:
        return response.status, await response.text()


def test_metrics_health_and_ready_over_http(
    clean_env: Any, text_models: dict[str, Any], recording_backend: Any
) -> None:
    orch = service(text_models, recording_backend)
    broken_redis = ConnectionError("redis at 127.0.0.1:1 refused the connection")

    def redis() -> bool:
        raise broken_redis

    async def models_loaded() -> bool:
        return True

    async def scenario() -> None:
        collector = ExecutorCollector(orch.executor, "local")
        checks = {"models": models_loaded, "gateway": lambda: True, "redis": redis}
        server = MonitoringServer("127.0.0.1", 0, checks, (collector,))
        port = await server.start()
        base = f"http://127.0.0.1:{port}"
        try:
            await answer(orch, "I aced my exam!!")
            async with aiohttp.ClientSession() as session:
                assert await get(session, f"{base}/health") == (200, json.dumps({"status": "alive"}))
                status, body = await get(session, f"{base}/ready")
                assert status == 503
                ready = json.loads(body)
                assert ready["ready"] is False
                assert ready["checks"]["models"] is True and ready["checks"]["gateway"] is True
                assert "refused the connection" in ready["checks"]["redis"]

                status, text = await get(session, f"{base}/metrics")
                assert status == 200
                families = {family.name: family for family in text_string_to_metric_families(text)}
                depth = {s.labels["priority"]: s.value for s in families["reactclip_queue_depth"].samples}
                assert depth == {"interactive": 0.0, "batch": 0.0}
                made = {s.labels["variant"]: s.value for s in families["reactclip_clips_made"].samples}
                assert made == {recording_backend.variant: 1.0}
                assert "reactclip_requests" in families and "reactclip_render_seconds" in families
                assert families["reactclip_failover_active"].samples[0].value == 0.0
        finally:
            await server.stop()
            await orch.aclose()
        # Stopped, its collector has left the registry: a new server can register one again.
        assert REGISTRY.get_sample_value("reactclip_load") is None

    asyncio.run(scenario())


def test_a_port_in_use_is_a_clear_error() -> None:
    async def scenario() -> None:
        first = MonitoringServer("127.0.0.1", 0, {})
        port = await first.start()
        try:
            with pytest.raises(OSError, match=f"cannot serve metrics on 127.0.0.1:{port}.*--metrics-port"):
                await MonitoringServer("127.0.0.1", port, {}).start()
        finally:
            await first.stop()

    asyncio.run(scenario())


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_logs_are_one_object_a_line_naming_the_request_and_never_its_words(
    clean_env: Any,
    text_models: dict[str, Any],
    recording_backend: Any,
    capsys: pytest.CaptureFixture[str],
    restore_logging: None,
) -> None:
    configure_logging("json", verbose=True, replace=True)
    orch = service(text_models, recording_backend)
    secret_words = "k.y.s nobody wants you here"
    request = Request(secret_words, ORIGIN, SMALL)

    async def scenario() -> None:
        try:
            [_ async for _ in orch.handle(request)]
        finally:
            await orch.aclose()

    asyncio.run(scenario())
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]
    mine = [line for line in lines if line.get("request_id") == request.id]
    assert mine, lines
    assert {"time", "level", "logger", "message"} <= set(mine[0])
    assert any("refused (harassment)" in line["message"] for line in mine)
    assert not any("exc_info" in line for line in mine)  # a refusal is expected: no traceback
    # What people said may show at debug (``-v``), never above it.
    assert not any(secret_words in json.dumps(line) for line in lines if line["level"] != "DEBUG")


def test_the_bot_is_alive_at_once_and_ready_only_with_its_models_and_the_gateway(
    fake_discord: FakeDiscord, clean_env: Path
) -> None:
    """``reactclip run``'s bot (build_bot, as run_bot builds it) against the fake Discord: /health
    answers, /ready names what is missing (here the text models, deliberately not loaded)."""
    port = free_port()
    monitoring = MonitoringSettings(bot_port=port)
    discord_settings = DiscordSettings(guild_db=clean_env / "guilds.sqlite3")
    bot = build_bot(
        Settings(monitoring=monitoring, discord=discord_settings), load_models=False, guild_ready_timeout=0.05
    )

    async def scenario() -> None:
        async with (
            fake_discord,
            fake_discord.connected(bot, wait_until_ready=True),
            aiohttp.ClientSession() as session,
        ):
            assert (await get(session, f"http://127.0.0.1:{port}/health"))[0] == 200
            status, body = await get(session, f"http://127.0.0.1:{port}/ready")
            assert status == 503
            assert json.loads(body)["checks"] == {"models": False, "gateway": True}
            status, text = await get(session, f"http://127.0.0.1:{port}/metrics")
            assert status == 200 and "reactclip_event_loop_lag_seconds" in text
        # Closed with the bot: the port is free again.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", port))

    asyncio.run(scenario())


def test_discord_requests_are_counted_with_their_upload_time_and_cooldowns(
    fake_discord: FakeDiscord, clean_env: Path, text_models: dict[str, Any], recording_backend: Any
) -> None:
    before = {
        "upload": sample("reactclip_stage_seconds_count", stage="upload"),
        "clip": sample("reactclip_requests_total", entry="slash", outcome="clip"),
        "cooldown": sample("reactclip_requests_total", entry="slash", outcome="cooldown"),
    }
    bot = ClipBot(text_models, recording_backend, clean_env / "guilds.sqlite3", cooldown_s=60)

    async def scenario() -> None:
        first = await fake_discord.slash("react", {"text": "we won the finals!!"})
        await fake_discord.wait_for(clip_edit(first.token), timeout=60)
        again = await fake_discord.slash("react", {"text": "gg everyone"})  # inside the cooldown
        line = payload(await fake_discord.wait_for_followup(again, timeout=30))
        assert "slow down" in line["content"]

    run(fake_discord, bot, scenario)
    assert sample("reactclip_stage_seconds_count", stage="upload") == before["upload"] + 1
    assert sample("reactclip_requests_total", entry="slash", outcome="clip") == before["clip"] + 1
    assert sample("reactclip_requests_total", entry="slash", outcome="cooldown") == before["cooldown"] + 1
