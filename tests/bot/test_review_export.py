"""Taking the approved drafts out: ``reactclip review DIR --export OUT [--zip]`` writes exactly the
approved clips and their manifest (with the decisions), and a Discord channel webhook gets each clip
as a file with its text (checked against a local server that plays the webhook)."""

from __future__ import annotations

import asyncio
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import BodyPartReader, web
from review_helpers import DONE, REFUSED, batch, batch_template, csrf_of, serving
from typer.testing import CliRunner

from reactclip.bot.cli import app
from reactclip.bot.review.store import DecisionStore
from reactclip.bot.review.webhook import WebhookError, WebhookPost, post_clips

pytestmark = pytest.mark.slow
__all__ = ["batch", "batch_template"]  # fixtures

FIRST, SECOND, THIRD = DONE
WEBHOOK_PATH = "/api/webhooks/123/s3cret-webhook-token"


def decide_some(folder: Path) -> None:
    """FIRST approved; SECOND rejected; THIRD approved, then remade (pending again); the refused
    draft "approved" (it has no clip, so it cannot go out)."""
    store = DecisionStore.in_folder(folder)
    store.record(FIRST, "approved", "Ana", seed=1)
    store.record(SECOND, "rejected", "Ana", "too loud")
    store.record(THIRD, "approved", "Bo")
    store.record(THIRD, "pending", "Bo", "remade with seed 5", 5)
    store.record(REFUSED, "approved", "Bo")


def review(*args: str) -> Any:
    return CliRunner().invoke(app, ["review", *args])


def test_export_writes_exactly_the_approved_clips_and_their_manifest(batch: Path, tmp_path: Path) -> None:
    nothing = review(str(batch), "--export", str(tmp_path / "none"))
    assert nothing.exit_code == 2 and "nothing in" in nothing.output and "is approved yet" in nothing.output
    decide_some(batch)

    result = review(str(batch), "--export", str(tmp_path / "approved"))
    assert result.exit_code == 0, result.output
    assert "exported 1 approved clips" in result.output
    out = tmp_path / "approved"
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == [
        "clips",
        f"clips/{FIRST}.mp4",
        "manifest.json",
    ]
    assert (out / "clips" / f"{FIRST}.mp4").read_bytes() == (batch / "clips" / f"{FIRST}.mp4").read_bytes()
    manifest = json.loads((out / "manifest.json").read_text())
    [entry] = manifest["drafts"]
    original = next(
        d for d in json.loads((batch / "manifest.json").read_text())["drafts"] if d["id"] == FIRST
    )
    assert {k: v for k, v in entry.items() if k != "decision"} == original
    assert entry["decision"]["decision"] == "approved" and entry["decision"]["who"] == "Ana"
    assert manifest["source"].endswith("drafts.csv") and manifest["exported_at"].endswith("+00:00")

    zipped = review(str(batch), "--export", str(tmp_path / "approved.zip"), "--zip")
    assert zipped.exit_code == 0, zipped.output
    with zipfile.ZipFile(tmp_path / "approved.zip") as archive:
        assert sorted(archive.namelist()) == [f"clips/{FIRST}.mp4", "manifest.json"]
        assert [d["id"] for d in json.loads(archive.read("manifest.json"))["drafts"]] == [FIRST]

    again = review(str(batch), "--export", str(out))
    assert again.exit_code == 2 and "already exists" in again.output
    assert review(str(batch), "--zip").exit_code == 2
    bad_webhook = review(str(batch), "--export", str(tmp_path / "posted"), "--webhook-url", "ftp://x")
    assert bad_webhook.exit_code == 1 and "must start with https://" in bad_webhook.output  # offline-ok
    assert not (tmp_path / "posted").exists()  # checked before anything is written
    missing = review(str(tmp_path / "nowhere"), "--export", str(tmp_path / "x"))
    assert missing.exit_code == 2 and "manifest.json does not exist" in missing.output


@dataclass
class FakeWebhook:
    """A local server in Discord's place: answers the first post with 429 (as Discord's rate limit
    does), or every post with ``status``, and keeps what each accepted post carried."""

    status: int = 200
    rate_limit_first: bool = True
    posts: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0
    runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post(WEBHOOK_PATH, self.execute)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        return f"http://127.0.0.1:{self.runner.addresses[0][1]}{WEBHOOK_PATH}"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def execute(self, request: web.Request) -> web.Response:
        self.attempts += 1
        if self.rate_limit_first and self.attempts == 1:
            return web.json_response(
                {"message": "You are being rate limited.", "retry_after": 0.01}, status=429
            )
        if self.status != 200:
            return web.json_response({"message": "Unknown Webhook", "code": 10015}, status=self.status)
        assert request.query["wait"] == "true" and request.content_type == "multipart/form-data"
        parts = {}
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            assert isinstance(part, BodyPartReader)
            parts[part.name] = {
                "filename": part.filename,
                "content_type": part.headers.get("Content-Type"),
                "data": await part.read(),
            }
        self.posts.append(parts)
        return web.json_response({"id": str(len(self.posts)), "attachments": [{"filename": "x"}]})


def test_the_webhook_gets_each_clip_as_a_file_with_its_text_and_no_pings(batch: Path) -> None:
    clips = [
        WebhookPost("I aced my exam! @everyone", batch / "clips" / f"{FIRST}.mp4"),
        WebhookPost("we won the finals!!", batch / "clips" / f"{SECOND}.mp4"),
    ]
    webhook = FakeWebhook()

    async def scenario() -> int:
        url = await webhook.start()
        try:
            return await post_clips(url, clips)
        finally:
            await webhook.stop()

    assert asyncio.run(scenario()) == 2
    assert webhook.attempts == 3  # the first post was rate-limited and sent again
    for post, clip in zip(webhook.posts, clips, strict=True):
        assert sorted(post) == ["files[0]", "payload_json"]
        payload = json.loads(post["payload_json"]["data"])
        assert payload == {"content": clip.text, "allowed_mentions": {"parse": []}}
        assert post["payload_json"]["content_type"] == "application/json"
        upload = post["files[0]"]
        assert (upload["filename"], upload["content_type"]) == (clip.path.name, "video/mp4")
        assert upload["data"] == clip.path.read_bytes()


def test_a_webhook_that_fails_says_why_without_its_url(batch: Path) -> None:
    clips = [WebhookPost("hi", batch / "clips" / f"{FIRST}.mp4")] * 2
    refusing = FakeWebhook(status=404, rate_limit_first=False)

    async def refused() -> str:
        url = await refusing.start()
        try:
            await post_clips(url, clips)
        except WebhookError as exc:
            return str(exc)
        finally:
            await refusing.stop()
        raise AssertionError("posted to a refusing webhook")

    message = asyncio.run(refused())
    assert "refused 0002-1.mp4: 404 (Unknown Webhook); 0 of 2 clips posted" in message
    assert "s3cret" not in message
    with pytest.raises(WebhookError, match="could not reach the Discord webhook") as unreachable:
        asyncio.run(post_clips("http://127.0.0.1:9/api/webhooks/1/s3cret", clips))
    assert "s3cret" not in str(unreachable.value)
    with pytest.raises(WebhookError, match="must start with https://"):  # offline-ok
        asyncio.run(post_clips("discord.com/api/webhooks/1/x", clips))


def test_the_pages_button_posts_the_approved_clips(batch: Path, text_models: Any) -> None:
    decide_some(batch)
    webhook = FakeWebhook(rate_limit_first=False)

    async def scenario() -> str:
        url = await webhook.start()
        try:
            async with serving(batch, text_models, webhook_url=url) as (_, http):
                token = await csrf_of(http)
                async with http.post("/post", data={"csrf_token": token}) as response:
                    page = await response.text()
                    assert "s3cret" not in page
                    return page
        finally:
            await webhook.stop()

    assert "posted 1 approved clips to Discord" in asyncio.run(scenario())
    [post] = webhook.posts
    assert json.loads(post["payload_json"]["data"])["content"] == "I aced my exam!"
