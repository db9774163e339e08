"""Vosk model directories: what one holds, and fetching one from the official Vosk model list
(name, url, md5 and size per model).

An install is all or nothing: the zip is downloaded and checked (size, MD5) and unpacked into a
staging folder beside the target, every member's path checked to stay inside it, and only a whole,
verified model is renamed into place. Whatever happens, the staging folder is removed. A zip
downloaded elsewhere (for a host with no network) installs the same way (``install_archive``).

Why not pooch, which fetches files against a checksum: it checks the hash once the whole file is on
disk, while this download stops as soon as it passes the size the list gives (a wrong or hostile
mirror cannot fill the disk), and the unpacking below refuses an archive with links or paths that
leave the folder, where zipfile's extraction (pooch's Unzip) quietly rewrites them. What is left
here is the standard library's urlopen and a hashing copy loop (about 30 lines).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import shutil
import stat
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from reactclip.speech.errors import SpeechModelError

MODEL_MARKERS = ("am/final.mdl", "conf/model.conf")
"""Files every Vosk model directory has; their absence means the path is not a model."""
DOWNLOAD_CHUNK = 1024 * 1024


def check_model_dir(path: Path) -> None:
    """Raise SpeechModelError, saying how to fix it, unless ``path`` holds a Vosk model."""
    if not path.is_dir():
        raise SpeechModelError(
            f"there is no Vosk model at {path}; run `reactclip models vosk` to download one, "
            "or point REACTCLIP_VOSK_MODEL at a model directory"
        )
    missing = [marker for marker in MODEL_MARKERS if not (path / marker).is_file()]
    if missing:
        raise SpeechModelError(f"{path} is not a Vosk model directory (no {', '.join(missing)})")


def is_model_dir(path: Path) -> bool:
    try:
        check_model_dir(path)
    except SpeechModelError:
        return False
    return True


@dataclass(frozen=True)
class ModelEntry:
    """One model of the official list."""

    name: str
    url: str
    md5: str
    size: int


def find_model(list_url: str, name: str, timeout_s: float) -> ModelEntry:
    """The list's entry for ``name``; SpeechModelError when the list can't be had or lacks it."""
    with _open(list_url, "the Vosk model list", timeout_s) as response:
        try:
            entries: list[dict[str, Any]] = json.load(response)
        except (ValueError, UnicodeDecodeError):
            raise SpeechModelError(f"the Vosk model list at {list_url} is not valid JSON") from None
    for entry in entries:
        if entry.get("name") == name:
            try:
                return ModelEntry(name, str(entry["url"]), str(entry["md5"]).lower(), int(entry["size"]))
            except (KeyError, TypeError, ValueError):
                raise SpeechModelError(f"the Vosk model list's entry for {name} is incomplete") from None
    close = difflib.get_close_matches(name, [str(e.get("name")) for e in entries], n=4, cutoff=0.6)
    hint = f"; similar: {', '.join(close)}" if close else ""
    raise SpeechModelError(f"there is no Vosk model named {name!r} in the official list{hint}")


def install_model(
    entry: ModelEntry,
    target: Path,
    timeout_s: float,
    *,
    replace: bool = False,
) -> Path:
    """Download ``entry``, verify it and unpack it as ``target``; returns ``target``.

    An existing model at ``target`` stays unless ``replace``; it is swapped out only once the new
    one is complete."""
    return _install(target, replace, lambda archive: _download(entry, archive, timeout_s))


def install_archive(archive: Path, target: Path, *, md5: str | None = None, replace: bool = False) -> Path:
    """Unpack a model zip fetched some other way (a host with no network: download it elsewhere,
    copy it over) as ``target``, as ``install_model`` does; ``md5``, the list's checksum, is
    checked first when given."""
    if not archive.is_file():
        raise SpeechModelError(f"there is no model archive at {archive}")

    def copy_checked(copy: Path) -> None:
        with archive.open("rb") as source, copy.open("wb") as out:
            _, digest = _copy_hashed(source, out)
        if md5 is not None and digest != md5.lower():
            raise SpeechModelError(f"{archive.name} does not match the MD5 checksum given")

    return _install(target, replace, copy_checked)


def _install(target: Path, replace: bool, fetch: Callable[[Path], None]) -> Path:
    """``fetch`` the zip into a staging folder beside ``target``, unpack it there, check it is a
    model and swap it in; the staging folder goes whatever happens."""
    if target.exists() and not replace:
        raise SpeechModelError(f"{target} already exists; pass --force to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        archive = staging / "model.zip"
        fetch(archive)
        unpacked = _unpack(archive, staging / "model")
        check_model_dir(unpacked)
        if target.exists():
            target.rename(staging / "previous")
        unpacked.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _copy_hashed(source: IO[bytes], out: IO[bytes], max_bytes: int | None = None) -> tuple[int, str]:
    """Copy ``source`` to ``out``, hashing as it goes; returns the bytes read and their MD5. Past
    ``max_bytes`` it stops, having read more than that (the caller tells a too-long source by it)."""
    digest = hashlib.md5(usedforsecurity=False)
    received = 0
    while chunk := source.read(DOWNLOAD_CHUNK):
        received += len(chunk)
        if max_bytes is not None and received > max_bytes:
            break
        digest.update(chunk)
        out.write(chunk)
    return received, digest.hexdigest()


def _open(url: str, what: str, timeout_s: float) -> IO[bytes]:
    host = urllib.parse.urlsplit(url).hostname or url
    try:
        return urllib.request.urlopen(url, timeout=timeout_s)
    except urllib.error.HTTPError as exc:
        raise SpeechModelError(f"could not download {what} from {host}: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SpeechModelError(
            f"could not download {what} from {host} ({reason}); check the network, or download "
            "the model's zip on another machine and install it with `reactclip models vosk --archive ZIP`"
        ) from None


def _download(entry: ModelEntry, archive: Path, timeout_s: float) -> None:
    with _open(entry.url, entry.name, timeout_s) as response, archive.open("wb") as out:
        try:
            received, digest = _copy_hashed(response, out, entry.size)
        except OSError as exc:
            raise SpeechModelError(f"the download of {entry.name} broke off ({exc})") from None
    if received != entry.size:
        raise SpeechModelError(
            f"the download of {entry.name} has {received} bytes, not the {entry.size} the list gives"
        )
    if digest != entry.md5:
        raise SpeechModelError(f"the download of {entry.name} does not match its MD5 checksum")


def _unpack(archive: Path, into: Path) -> Path:
    """Unpack every member inside ``into``, refusing links and paths that leave it; returns the
    model's folder (the archive's single top-level folder, as Vosk's zips have, else ``into``)."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = [m for m in zipped.infolist() if not m.is_dir()]
            for member in members:
                destination = into.joinpath(*_safe_parts(member))
                destination.parent.mkdir(parents=True, exist_ok=True)
                with zipped.open(member) as source, destination.open("wb") as out:
                    shutil.copyfileobj(source, out)
    except zipfile.BadZipFile:
        raise SpeechModelError(f"the download of {archive.name} is not a zip archive") from None
    tops = {_safe_parts(member)[0] for member in members}
    single = into / tops.pop() if len(tops) == 1 else into
    return single if single.is_dir() else into


def _safe_parts(member: zipfile.ZipInfo) -> tuple[str, ...]:
    path = PurePosixPath(member.filename.replace("\\", "/"))
    mode = member.external_attr >> 16
    if path.is_absolute() or ".." in path.parts or not path.parts or ":" in path.parts[0]:
        raise SpeechModelError(f"the model archive holds an unsafe path ({member.filename!r}); not unpacked")
    if stat.S_ISLNK(mode):
        raise SpeechModelError(f"the model archive holds a link ({member.filename!r}); not unpacked")
    return path.parts
