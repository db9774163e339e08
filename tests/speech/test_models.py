"""Installing a Vosk model from a model list: verified, unpacked safely, all or nothing. The list
and the zips are served from 127.0.0.1 by a server the test starts (no network)."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import threading
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reactclip.speech.errors import SpeechModelError
from reactclip.speech.models import ModelEntry, check_model_dir, find_model, install_archive, install_model

NAME = "vosk-model-test-0.1"
FILES = {"am/final.mdl": b"acoustic model", "conf/model.conf": b"--sample-frequency=16000\n", "README": b"hi"}


def model_zip(files: dict[str, bytes], top: str = NAME) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zipped:
        for name, data in files.items():
            zipped.writestr(f"{top}/{name}" if top else name, data)
    return out.getvalue()


class ModelServer:
    """Serves ``files`` (path -> bytes) on 127.0.0.1, like the Vosk site serves its list and zips."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[str] = []
        files, requests = self.files, self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                requests.append(self.path)
                body = files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def publish(self, archive: bytes, *, md5: str | None = None, size: int | None = None) -> str:
        """Put ``archive`` and a list naming it online; returns the list's URL."""
        self.files[f"/{NAME}.zip"] = archive
        entry = {
            "name": NAME,
            "lang": "xx",
            "url": f"{self.url}/{NAME}.zip",
            "md5": md5 or hashlib.md5(archive).hexdigest(),
            "size": len(archive) if size is None else size,
        }
        self.files["/model-list.json"] = json.dumps([entry]).encode()
        return f"{self.url}/model-list.json"


@pytest.fixture
def server() -> Iterator[ModelServer]:
    server = ModelServer()
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


Install = Callable[..., Path]


@pytest.fixture
def install(server: ModelServer, tmp_path: Path) -> Install:
    def run(archive: bytes, *, replace: bool = False, **entry: object) -> Path:
        list_url = server.publish(archive, **entry)  # type: ignore[arg-type]
        return install_model(find_model(list_url, NAME, 10), tmp_path / "models" / NAME, 10, replace=replace)

    return run


def leftovers(tmp_path: Path) -> list[str]:
    models = tmp_path / "models"
    return sorted(p.name for p in models.iterdir()) if models.exists() else []


def test_a_listed_model_is_verified_and_unpacked_where_asked(install: Install, tmp_path: Path) -> None:
    target = install(model_zip(FILES))
    assert target == tmp_path / "models" / NAME
    check_model_dir(target)
    assert (target / "am" / "final.mdl").read_bytes() == FILES["am/final.mdl"]
    assert leftovers(tmp_path) == [NAME]  # no staging folder or zip left behind


def test_a_zip_without_a_top_folder_unpacks_the_same(install: Install) -> None:
    target = install(model_zip(FILES, top=""))
    check_model_dir(target)


def test_a_checksum_mismatch_installs_nothing(install: Install, tmp_path: Path) -> None:
    with pytest.raises(SpeechModelError, match="MD5"):
        install(model_zip(FILES), md5="0" * 32)
    assert leftovers(tmp_path) == []


def test_a_size_other_than_listed_installs_nothing(install: Install, tmp_path: Path) -> None:
    archive = model_zip(FILES)
    with pytest.raises(SpeechModelError, match="bytes"):
        install(archive, size=len(archive) - 10)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("evil", ["../escaped.txt", "/etc/reactclip-evil", "am/../../escaped.txt"])
def test_an_archive_member_leaving_the_folder_is_refused(install: Install, tmp_path: Path, evil: str) -> None:
    with pytest.raises(SpeechModelError, match="unsafe path"):
        install(model_zip({**FILES, evil: b"x"}, top=""))
    assert leftovers(tmp_path) == []
    assert not list(tmp_path.rglob("escaped.txt"))


def test_an_archive_holding_a_link_is_refused(install: Install, tmp_path: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zipped:
        for name, data in FILES.items():
            zipped.writestr(name, data)
        link = zipfile.ZipInfo("am/link")
        link.external_attr = 0o120777 << 16
        zipped.writestr(link, "/etc/passwd")
    with pytest.raises(SpeechModelError, match="link"):
        install(out.getvalue())
    assert leftovers(tmp_path) == []


def test_an_archive_that_is_not_a_model_is_refused(install: Install, tmp_path: Path) -> None:
    with pytest.raises(SpeechModelError, match="not a Vosk model"):
        install(model_zip({"README": b"hello"}))
    assert leftovers(tmp_path) == []


def test_a_model_already_there_is_kept_unless_replaced(install: Install, tmp_path: Path) -> None:
    target = install(model_zip(FILES))
    with pytest.raises(SpeechModelError, match="already exists"):
        install(model_zip({**FILES, "README": b"new"}))
    assert (target / "README").read_bytes() == b"hi"
    install(model_zip({**FILES, "README": b"new"}), replace=True)
    assert (target / "README").read_bytes() == b"new"
    assert leftovers(tmp_path) == [NAME]


def test_an_unknown_name_says_which_names_are_close(server: ModelServer) -> None:
    list_url = server.publish(model_zip(FILES))
    with pytest.raises(SpeechModelError, match=f"no Vosk model named 'vosk-model-test-0.2'.*{NAME}"):
        find_model(list_url, "vosk-model-test-0.2", 10)


def test_without_a_network_the_error_is_one_clear_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a port on 127.0.0.1 that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SpeechModelError, match="could not download the Vosk model list") as caught:
        find_model(f"http://127.0.0.1:{port}/model-list.json", NAME, 5)
    assert "\n" not in str(caught.value) and "check the network" in str(caught.value)
    assert "`reactclip models vosk --archive ZIP`" in str(caught.value)  # the way round it
    entry = ModelEntry(NAME, f"http://127.0.0.1:{port}/{NAME}.zip", "0" * 32, 10)
    with pytest.raises(SpeechModelError, match=f"could not download {NAME}"):
        install_model(entry, tmp_path / "models" / NAME, 5)
    assert leftovers(tmp_path) == []


def test_a_zip_fetched_elsewhere_installs_without_a_network(tmp_path: Path) -> None:
    """An air-gapped host: the zip was downloaded on another machine and copied over."""
    archive = tmp_path / f"{NAME}.zip"
    archive.write_bytes(model_zip(FILES))
    md5 = hashlib.md5(archive.read_bytes()).hexdigest()
    target = install_archive(archive, tmp_path / "models" / NAME, md5=md5.upper())
    check_model_dir(target)
    assert (target / "am" / "final.mdl").read_bytes() == FILES["am/final.mdl"]
    assert archive.exists(), "the operator's zip is left where it was"
    assert leftovers(tmp_path) == [NAME]


def test_a_zip_fetched_elsewhere_is_checked_like_a_download(tmp_path: Path) -> None:
    archive = tmp_path / "model.zip"
    archive.write_bytes(model_zip(FILES))
    with pytest.raises(SpeechModelError, match="does not match the MD5"):
        install_archive(archive, tmp_path / "models" / NAME, md5="0" * 32)
    archive.write_bytes(model_zip({"README": b"not a model"}))
    with pytest.raises(SpeechModelError, match="not a Vosk model directory"):
        install_archive(archive, tmp_path / "models" / NAME)
    with pytest.raises(SpeechModelError, match="no model archive at"):
        install_archive(tmp_path / "missing.zip", tmp_path / "models" / NAME)
    assert leftovers(tmp_path) == []
