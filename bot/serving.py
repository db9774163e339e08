"""The long-running commands: ``reactclip run`` (the Discord bot), ``reactclip worker`` (a GPU
worker of the distributed queue) and ``reactclip sync`` (register the bot's commands with Discord).
Each process serves /metrics, /health and /ready (monitoring.py) unless ``--metrics-port 0``.

Registered on the one ``reactclip`` app by cli.py; heavy imports stay inside the commands.
"""

from __future__ import annotations

from typing import Annotated

import typer

from reactclip.bot.cli_options import MemoryPlanOption, MetricsPortOption, backend_name
from reactclip.bot.errors import reported
from reactclip.bot.settings import Settings


def worker(
    backend: Annotated[
        str | None,
        typer.Option(help="auto, wan, tiny, sticker, or cost-model for drills (default: settings)"),
    ] = None,
    redis_url: Annotated[str | None, typer.Option(help="The queue's Redis (default: settings)")] = None,
    queue: Annotated[str | None, typer.Option(help="The queue name (default: settings)")] = None,
    concurrency: Annotated[
        int, typer.Option(min=1, help="Jobs taken at once; compatible ones share one GPU call")
    ] = 1,
    metrics_port: MetricsPortOption = None,
    memory_plan: MemoryPlanOption = None,
) -> None:
    """Serve the distributed queue: render clips for any number of bot processes (one GPU call at a
    time). Clips go into the shared Redis cache when REACTCLIP_ENGINE__CACHE__STORE=redis."""
    with reported():
        if backend is not None:
            backend_name(backend)
        settings = Settings()
        if memory_plan is not None:
            settings.engine.wan.memory_plan = memory_plan
        from reactclip.bot.monitoring import worker_monitoring
        from reactclip.bot.service import frame_hooks
        from reactclip.engine.executor.distributed import run_worker
        from reactclip.moderation.frames import FrameModerator

        moderation, distributed = settings.moderation, settings.engine.distributed
        frames = FrameModerator(sample_frames=moderation.sample_frames) if moderation.frame_check else None
        redis_url = redis_url or settings.engine.redis_url
        port = settings.monitoring.worker_port if metrics_port is None else metrics_port
        run_worker(
            settings.engine,
            redis_url,
            backend=backend,
            queue_name=queue or distributed.queue_name,
            concurrency=concurrency,
            around=worker_monitoring(settings, redis_url, port) if port else None,
            **frame_hooks(frames),
        )


def run(metrics_port: MetricsPortOption = None) -> None:
    """Run the Discord bot on embedded defaults (token: REACTCLIP_DISCORD__TOKEN or [discord] token
    in the config file, never in the repository)."""
    with reported():
        from reactclip.bot.discord.app import run_bot

        settings = Settings()
        if metrics_port is not None:
            monitoring = settings.monitoring.model_copy(update={"bot_port": metrics_port})
            settings = settings.model_copy(update={"monitoring": monitoring})
        run_bot(settings)


def sync(
    guild: Annotated[
        int | None,
        typer.Option(help="Register for this guild only (instant); default: sync_guild, else global"),
    ] = None,
) -> None:
    """Register the slash commands and the message menu with Discord."""
    with reported():
        from reactclip.bot.discord.app import sync_commands

        names = sync_commands(Settings(), guild)
    typer.echo(f"synced {len(names)} commands: {', '.join(names)}")
