"""``reactclip models ...``: download the models reactclip runs offline (Vosk's speech models from
their official list, checked by MD5), or install an archive fetched on another machine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reactclip.bot.errors import reported
from reactclip.bot.settings import Settings

models = typer.Typer(help="Download the models reactclip runs offline.", no_args_is_help=True)


@models.command("vosk")
def models_vosk(
    name: Annotated[
        str | None, typer.Argument(help="A model of the official Vosk list (default: the configured one)")
    ] = None,
    to: Annotated[Path | None, typer.Option(help="Unpack here (default: where the settings point)")] = None,
    force: Annotated[bool, typer.Option(help="Replace a model already there")] = False,
    archive: Annotated[
        Path | None,
        typer.Option(help="Install this model zip, downloaded on another machine, instead of downloading"),
    ] = None,
    md5: Annotated[str | None, typer.Option(help="With --archive: the MD5 the model list gives")] = None,
) -> None:
    """Download a Vosk speech model from the official list, check its MD5 and unpack it where the
    settings point (REACTCLIP_VOSK_MODEL); or, with --archive, install a zip fetched elsewhere."""
    with reported():
        from reactclip.speech.models import find_model, install_archive, install_model, is_model_dir
        from reactclip.speech.settings import DEFAULT_VOSK_MODEL

        speech = Settings().speech
        configured = speech.vosk_model
        if name is None and archive is not None and archive.name.endswith(".zip"):
            name = archive.name.removesuffix(".zip")  # the official zips are named after the model
        target = to or _model_target(configured, name)
        name = name or DEFAULT_VOSK_MODEL
        if is_model_dir(target) and not force:
            typer.echo(f"a Vosk model is already at {target} (--force replaces it)")
            return
        if archive is not None:
            install_archive(archive, target, md5=md5, replace=force)
        else:
            entry = find_model(speech.vosk_model_list_url, name, speech.download_timeout_s)
            typer.echo(
                f"downloading {entry.name} ({entry.size / 1024 / 1024:.0f} MiB) from {entry.url}", err=True
            )
            install_model(entry, target, speech.download_timeout_s, replace=force)
    typer.echo(f"installed {name} at {target}")
    if target.expanduser().resolve() != configured.expanduser().resolve():
        typer.echo(f"to use it: export REACTCLIP_VOSK_MODEL={target}")


def _model_target(configured: Path, name: str | None) -> Path:
    """The configured model directory for the default model (or its own name), else a folder
    named after the model beside it."""
    if name is None or name == configured.name:
        return configured
    return configured.parent / name
