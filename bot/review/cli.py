"""``reactclip review DIR``: serve the review page for a batch folder, or (``--export OUT``) write
the approved drafts out without serving. Registered on the one ``reactclip`` app by bot/cli.py;
the page, the pipeline and aiohttp load only when the command runs.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from reactclip.bot.cli_options import backend_name
from reactclip.bot.errors import UserInputError, reported
from reactclip.bot.settings import Settings

DEFAULT_PORT = 8765


def review(
    folder: Annotated[
        Path, typer.Argument(metavar="DIR", help="The folder `reactclip batch --out DIR` wrote")
    ],
    port: Annotated[int, typer.Option(min=0, max=65535, help="The page's port")] = DEFAULT_PORT,
    host: Annotated[
        str, typer.Option(help="The address to bind; any but a loopback one requires the access token")
    ] = "127.0.0.1",
    token: Annotated[
        str | None,
        typer.Option(
            envvar="REACTCLIP_REVIEW_TOKEN",
            show_default=False,
            help="The access token (default: none on 127.0.0.1, else a new one, printed in the link)",
        ),
    ] = None,
    reviewer: Annotated[
        str | None, typer.Option(help="Your name on each decision (default: the page asks once)")
    ] = None,
    export: Annotated[
        Path | None,
        typer.Option(
            "--export", help="Write the approved clips and their manifest to this new folder, and exit"
        ),
    ] = None,
    as_zip: Annotated[bool, typer.Option("--zip", help="With --export: write one zip file instead")] = False,
    webhook_url: Annotated[
        str | None,
        typer.Option(
            envvar="REACTCLIP_REVIEW_WEBHOOK_URL",
            show_default=False,
            help="A Discord channel's webhook: --export posts the approved clips to it; the page, a button",
        ),
    ] = None,
    backend: Annotated[
        str | None, typer.Option(help="Remake drafts with auto, wan, tiny or sticker (default: settings)")
    ] = None,
) -> None:
    """Review a batch's drafts in the browser: play each, approve or reject it, remake it with a new
    seed or new text (moderation runs again), then export the approved ones (or post them to a
    Discord channel). Decisions are kept in DIR/review.sqlite3."""
    with reported():
        if as_zip and export is None:
            raise UserInputError("--zip goes with --export OUT")
        if export is not None:
            _export(folder, export, as_zip, webhook_url)
            return
        settings = Settings()
        if backend is not None:
            engine = settings.engine.model_copy(update={"backend": backend_name(backend)})
            settings = settings.model_copy(update={"engine": engine})
        _serve(settings, folder, host, port, token, reviewer, webhook_url)


def _export(folder: Path, out: Path, as_zip: bool, webhook_url: str | None) -> None:
    from reactclip.bot.review.export import approved_clips, export_folder, export_zip
    from reactclip.bot.review.folder import BatchFolder
    from reactclip.bot.review.store import DecisionStore
    from reactclip.bot.review.webhook import WebhookPost, post_clips
    from reactclip.bot.review.webhook import webhook_url as checked_webhook_url

    if webhook_url is not None:
        checked_webhook_url(webhook_url)  # a wrong URL fails before anything is written
    batch = BatchFolder(folder)
    clips = approved_clips(batch, DecisionStore.in_folder(folder).current())
    if not clips:
        raise UserInputError(f"nothing in {folder} is approved yet: review it with reactclip review {folder}")
    if as_zip:
        export_zip(batch, clips, out)
    else:
        export_folder(batch, clips, out)
    typer.echo(f"exported {len(clips)} approved clips and their manifest to {out}")
    if webhook_url is not None:
        posted = asyncio.run(post_clips(webhook_url, [WebhookPost(c.draft.text, c.path) for c in clips]))
        typer.echo(f"posted {posted} clips to the Discord webhook")


def _serve(
    settings: Settings,
    folder: Path,
    host: str,
    port: int,
    token: str | None,
    reviewer: str | None,
    webhook_url: str | None,
) -> None:
    from reactclip.bot.review.app import ReviewConfig
    from reactclip.bot.review.server import ReviewServer
    from reactclip.bot.review.webhook import webhook_url as checked_webhook_url
    from reactclip.bot.service import ReactionService

    if webhook_url is not None:
        checked_webhook_url(webhook_url)  # a wrong URL fails now, not at the button
    config = ReviewConfig(folder, reviewer=reviewer.strip() if reviewer else None, webhook_url=webhook_url)
    server = ReviewServer(config, lambda: ReactionService.from_settings(settings), host, port, token)

    def ready(server: ReviewServer) -> None:
        typer.echo(f"reviewing {folder} at {server.url}  (Ctrl-C stops)")
        if server.token:
            typer.echo("  the link holds the access token: share it only with reviewers (plain HTTP)")

    try:
        asyncio.run(server.serve_forever(on_ready=ready))
    except KeyboardInterrupt:
        typer.echo("stopped; the decisions are in " + str(folder / "review.sqlite3"))
