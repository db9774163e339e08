"""``reactclip review`` over real HTTP: the page lists every draft with its clip or its refusal; only
the page itself may change anything (CSRF token, same origin, loopback Host or the access token);
clips are served by draft id and nothing else; remakes go through moderation again; decisions
outlive the server."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from review_helpers import DONE, REFUSED, batch, batch_template, client, csrf_of, serving
from yarl import URL

from reactclip.bot.review.app import ReviewConfig
from reactclip.bot.review.security import TOKEN_COOKIE, TOKEN_HEADER, access_token, is_loopback
from reactclip.bot.review.server import ReviewServer
from reactclip.bot.review.store import DecisionStore

pytestmark = pytest.mark.slow
__all__ = ["batch", "batch_template"]  # fixtures

FIRST, SECOND, THIRD = DONE


def manifest_of(folder: Path) -> dict[str, dict[str, Any]]:
    return {d["id"]: d for d in json.loads((folder / "manifest.json").read_text())["drafts"]}


def test_the_page_lists_every_draft_with_its_clip_or_its_refusal(batch: Path, text_models: Any) -> None:
    async def scenario() -> None:
        async with serving(batch, text_models) as (_, http):
            async with http.get("/") as response:
                page = await response.text()
                assert response.headers["X-Frame-Options"] == "DENY"
            for draft_id in DONE:
                assert f'<video src="/clips/{draft_id}?v=' in page
                async with http.get(f"/clips/{draft_id}") as response:
                    assert response.status == 200 and response.content_type == "video/mp4"
                    assert await response.read() == (batch / "clips" / f"{draft_id}.mp4").read_bytes()
            assert "No clip: refused" in page and "harassment: I can&#39;t make clips" in page
            assert "I aced my exam!" in page and "undecided" in page

    asyncio.run(scenario())


@pytest.mark.parametrize("token", [None, "", "0" * 64], ids=["missing", "empty", "wrong"])
def test_a_post_without_its_sessions_csrf_token_is_refused(
    batch: Path, text_models: Any, token: str | None
) -> None:
    async def scenario() -> None:
        async with serving(batch, text_models) as (_, http):
            await csrf_of(http)  # a session exists; its token is not sent
            form = {"decision": "approved"} | ({"csrf_token": token} if token is not None else {})
            async with http.post(f"/drafts/{FIRST}/decision", data=form) as response:
                assert response.status == 403
                assert "reload it" in await response.text()
            async with http.post("/export", data=form) as response:
                assert response.status == 403

    asyncio.run(scenario())
    assert DecisionStore.in_folder(batch).current() == {}


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},  # offline-ok
        {"Origin": "null"},
        {"Referer": "http://evil.example/page"},  # offline-ok
        {},  # neither Origin nor Referer
    ],
    ids=["other-origin", "null-origin", "other-referer", "no-origin"],
)
def test_a_cross_site_post_is_refused_even_with_a_valid_csrf_token(
    batch: Path, text_models: Any, headers: dict[str, str]
) -> None:
    async def scenario() -> None:
        async with serving(batch, text_models) as (server, own):
            token = await csrf_of(own)
            base = f"http://127.0.0.1:{server.port}"
            async with client(base, **headers) as other:
                other.cookie_jar.update_cookies(own.cookie_jar.filter_cookies(URL(base)))
                form = {"csrf_token": token, "decision": "approved"}
                async with other.post(
                    f"/drafts/{FIRST}/decision", data=form, allow_redirects=False
                ) as response:
                    assert response.status == 403
                    assert "cross-site request refused" in await response.text()
            async with client(base, Referer=f"{base}/") as referred:  # no Origin: the Referer says
                referred.cookie_jar.update_cookies(own.cookie_jar.filter_cookies(URL(base)))
                form["decision"] = "rejected"
                async with referred.post(
                    f"/drafts/{FIRST}/decision", data=form, allow_redirects=False
                ) as response:
                    assert response.status == 303

    asyncio.run(scenario())
    assert [d.decision for d in DecisionStore.in_folder(batch).history(FIRST)] == ["rejected"]


def test_the_pages_own_post_is_recorded_with_who_and_when(batch: Path, text_models: Any) -> None:
    async def scenario() -> None:
        async with serving(batch, text_models, reviewer=None) as (_, http):
            token = await csrf_of(http)
            form = {"csrf_token": token, "decision": "approved"}
            async with http.post(f"/drafts/{FIRST}/decision", data=form) as response:
                assert "tell the page your name first" in await response.text()
            async with http.post("/reviewer", data={"csrf_token": token, "name": "  Ana\u200b  Lee "}) as _:
                pass
            async with http.post(f"/drafts/{FIRST}/decision", data=form, allow_redirects=False) as response:
                assert response.status == 303 and response.headers["Location"] == f"/#draft-{FIRST}"
            async with http.get("/") as response:
                assert "approved by Ana Lee at" in await response.text()

    asyncio.run(scenario())
    [decision] = DecisionStore.in_folder(batch).current().values()
    assert (decision.draft_id, decision.decision, decision.who) == (FIRST, "approved", "Ana Lee")
    assert decision.at.endswith("+00:00") and datetime.fromisoformat(decision.at)  # UTC, ISO 8601


def test_loopback_mode_refuses_a_host_that_is_not_loopback(batch: Path, text_models: Any) -> None:
    """A page on 127.0.0.1 without a token must not answer to another name (DNS rebinding)."""

    async def scenario() -> None:
        async with serving(batch, text_models) as (_, http):
            async with http.get("/", headers={"Host": "evil.example"}) as response:
                assert response.status == 403
            async with http.get("/", headers={"Host": "localhost"}) as response:
                assert response.status == 200

    asyncio.run(scenario())


def test_a_page_bound_beyond_loopback_needs_its_token(batch: Path, text_models: Any) -> None:
    assert access_token("127.0.0.1", None) is None and access_token("::1", None) is None
    assert is_loopback("localhost") and is_loopback("127.0.0.2") and not is_loopback("0.0.0.0")
    assert len(access_token("0.0.0.0", None) or "") >= 24 and access_token("0.0.0.0", "given") == "given"
    remote = ReviewServer(ReviewConfig(batch), lambda: pytest.fail("no remake here"), "0.0.0.0", 8765)
    expected_url = f"http://0.0.0.0:8765/?token={remote.token}"  # offline-ok: never started
    assert remote.token and remote.url == expected_url

    async def scenario() -> None:
        # Started on 127.0.0.1 with a token: the mode a non-loopback address gets.
        async with serving(batch, text_models, token="s3cret-token") as (_, http):
            for path in ("/", f"/clips/{FIRST}", "/static/review.js"):
                async with http.get(path) as response:
                    assert response.status == 401, path
            async with http.get("/?token=wrong") as response:
                assert response.status == 403
            async with http.get("/", headers={TOKEN_HEADER: "s3cret-token"}) as response:
                assert response.status == 200
            async with http.get("/?token=s3cret-token", allow_redirects=False) as response:
                assert response.status == 303 and response.headers["Location"] == "/"
                assert response.cookies[TOKEN_COOKIE]["httponly"]
            async with http.get("/") as response:  # the cookie now carries it
                assert response.status == 200 and "Drafts in" in await response.text()
            async with http.get("/", headers={"Host": "evil.example"}) as response:
                assert response.status == 200  # with a token, the Host does not matter

    asyncio.run(scenario())


def test_clips_are_found_by_draft_id_only_never_by_a_path(batch: Path, text_models: Any) -> None:
    manifest = json.loads((batch / "manifest.json").read_text())
    tampered = {SECOND: "../manifest.json", THIRD: str((batch / "manifest.json").resolve())}
    for draft in manifest["drafts"]:
        draft["clip"] = tampered.get(draft["id"], draft["clip"])
    (batch / "manifest.json").write_text(json.dumps(manifest))

    async def scenario() -> None:
        async with serving(batch, text_models) as (server, http):
            base = f"http://127.0.0.1:{server.port}"
            for raw in (
                "/clips/../manifest.json",
                "/clips/..%2Fmanifest.json",
                "/clips/..%2F..%2F..%2Fetc%2Fpasswd",
                "/clips/%2Fetc%2Fpasswd",
                "/clips//etc/passwd",
                f"/clips/{batch / 'manifest.json'}",
                f"/clips/{REFUSED}",
                f"/clips/{SECOND}",  # its manifest entry points outside clips/
                f"/clips/{THIRD}",  # and this one to an absolute path
                "/static/..%2Fapp.py",
                "/static/review.html",
                "/manifest.json",
                "/review.sqlite3",
            ):
                async with http.get(URL(base + raw, encoded=True)) as response:
                    assert response.status == 404, raw
                    assert b"drafts" not in await response.read()
            async with http.get(f"/clips/{FIRST}") as response:
                assert response.status == 200

    asyncio.run(scenario())


def test_a_new_seed_remakes_the_clip_and_its_manifest_entry(batch: Path, text_models: Any) -> None:
    others = manifest_of(batch)
    before = others.pop(FIRST)
    old_bytes = (batch / before["clip"]).read_bytes()

    async def scenario() -> str:
        async with serving(batch, text_models) as (_, http):
            token = await csrf_of(http)
            form = {"csrf_token": token, "decision": "approved"}
            async with http.post(f"/drafts/{FIRST}/decision", data=form):
                pass
            async with http.post(f"/drafts/{FIRST}/regenerate", data={"csrf_token": token}) as response:
                return await response.text()

    page = asyncio.run(scenario())
    after = manifest_of(batch)[FIRST]
    assert after["seed"] != before["seed"] and after["spec"]["seed"] == after["seed"]
    assert after["status"] == "done" and after["clip"] == before["clip"] and after["text"] == before["text"]
    assert (batch / after["clip"]).read_bytes() != old_bytes
    assert f"remade with seed {after['seed']}" in page
    decision = DecisionStore.in_folder(batch).current()[FIRST]  # the approval was for the old clip
    assert (decision.decision, decision.seed) == ("pending", after["seed"])
    assert {k: v for k, v in manifest_of(batch).items() if k != FIRST} == others
    assert not list(batch.glob(".remake-*"))


def test_an_edit_moderation_refuses_shows_the_refusal_and_keeps_the_old_clip(
    batch: Path, text_models: Any
) -> None:
    before = manifest_of(batch)
    old_bytes = (batch / before[FIRST]["clip"]).read_bytes()

    async def scenario() -> tuple[str, str]:
        async with serving(batch, text_models) as (_, http):
            token = await csrf_of(http)
            refused = {"csrf_token": token, "text": "k.y.s nobody wants you here"}
            async with http.post(f"/drafts/{FIRST}/edit", data=refused) as response:
                assert response.status == 200
                refused_page = await response.text()
            allowed = {"csrf_token": token, "text": "we got the puppy!!"}
            async with http.post(f"/drafts/{SECOND}/edit", data=allowed) as response:
                return refused_page, await response.text()

    refused_page, allowed_page = asyncio.run(scenario())
    assert "not remade, the draft is unchanged: refused: harassment" in refused_page
    assert "Traceback" not in refused_page
    after = manifest_of(batch)
    assert after[FIRST] == before[FIRST]  # text, seed, verdicts, clip: all as they were
    assert (batch / after[FIRST]["clip"]).read_bytes() == old_bytes
    assert FIRST not in DecisionStore.in_folder(batch).current()
    assert after[SECOND]["text"] == "we got the puppy!!" and after[SECOND]["status"] == "done"
    assert "text edited, remade with seed" in allowed_page


def test_decisions_outlive_a_restart_of_the_server(batch: Path, text_models: Any) -> None:
    async def decide() -> None:
        async with serving(batch, text_models) as (_, http):
            token = await csrf_of(http)
            async with http.post(
                f"/drafts/{FIRST}/decision", data={"csrf_token": token, "decision": "approved"}
            ):
                pass
            rejected = {"csrf_token": token, "decision": "rejected", "reason": "too loud"}
            async with http.post(f"/drafts/{SECOND}/decision", data=rejected):
                pass

    async def reopen() -> str:
        async with serving(batch, text_models, reviewer="Bo") as (_, http), http.get("/") as response:
            return await response.text()

    asyncio.run(decide())
    page = asyncio.run(reopen())
    assert f'id="draft-{FIRST}"' in page
    assert "approved by Ana at" in page and "rejected by Ana at" in page and "(too loud)" in page
    assert '<span id="approved-count">1</span>' in page
    assert [d.decision for d in DecisionStore.in_folder(batch).history(SECOND)] == ["rejected"]


def test_the_export_button_downloads_exactly_the_approved_clips(batch: Path, text_models: Any) -> None:
    async def scenario() -> tuple[bytes, str]:
        async with serving(batch, text_models) as (_, http):
            token = await csrf_of(http)
            async with http.post("/export", data={"csrf_token": token}) as response:
                nothing = await response.text()
            for draft_id, decision in ((FIRST, "approved"), (SECOND, "rejected"), (THIRD, "approved")):
                form = {"csrf_token": token, "decision": decision}
                async with http.post(f"/drafts/{draft_id}/decision", data=form):
                    pass
            async with http.post("/export", data={"csrf_token": token}) as response:
                assert response.content_type == "application/zip"
                assert 'filename="drafts-approved.zip"' in response.headers["Content-Disposition"]
                return await response.read(), nothing

    archive, nothing = asyncio.run(scenario())
    assert "nothing is approved yet" in nothing
    with zipfile.ZipFile(io.BytesIO(archive)) as exported:
        assert sorted(exported.namelist()) == ["clips/0002-1.mp4", "clips/0004-1.mp4", "manifest.json"]
        assert exported.read(f"clips/{FIRST}.mp4") == (batch / "clips" / f"{FIRST}.mp4").read_bytes()
        drafts = json.loads(exported.read("manifest.json"))["drafts"]
    assert [(d["id"], d["decision"]["decision"], d["decision"]["who"]) for d in drafts] == [
        (FIRST, "approved", "Ana"),
        (THIRD, "approved", "Ana"),
    ]


def test_a_gif_clip_is_shown_as_an_image_and_served_as_one(batch: Path, text_models: Any) -> None:
    manifest = json.loads((batch / "manifest.json").read_text())
    gif = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 40, 40)).save(gif, format="GIF")
    (batch / "clips" / f"{THIRD}.gif").write_bytes(gif.getvalue())
    for draft in manifest["drafts"]:
        if draft["id"] == THIRD:
            draft["clip"] = f"clips/{THIRD}.gif"
    (batch / "manifest.json").write_text(json.dumps(manifest))

    async def scenario() -> None:
        async with serving(batch, text_models) as (_, http):
            async with http.get("/") as response:
                assert f'<img src="/clips/{THIRD}?v=' in await response.text()
            async with http.get(f"/clips/{THIRD}") as response:
                assert response.content_type == "image/gif" and await response.read() == gif.getvalue()

    asyncio.run(scenario())


def test_a_manifest_rewritten_while_the_page_is_open_is_read_again_not_overwritten(
    batch: Path, text_models: Any
) -> None:
    """``reactclip batch`` run again on the folder while the page is open: a remake keeps its work."""

    async def scenario() -> str:
        async with serving(batch, text_models) as (_, http):
            token = await csrf_of(http)
            manifest = json.loads((batch / "manifest.json").read_text())
            manifest["drafts"][1]["text"] = "rewritten by another batch run"
            (batch / "manifest.json").write_text(json.dumps(manifest))
            async with http.post(f"/drafts/{FIRST}/regenerate", data={"csrf_token": token}) as response:
                return await response.text()

    page = asyncio.run(scenario())
    assert "rewritten by another batch run" in page
    assert manifest_of(batch)[SECOND]["text"] == "rewritten by another batch run"
