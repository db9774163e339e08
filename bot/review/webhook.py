"""Post approved clips to a Discord channel through its webhook (Channel settings → Integrations →
Webhooks): one message per clip, the draft's text as its content and the clip as its file.

The webhook URL is a secret (whoever holds it can post as it): it is never logged, shown on the page
or put in an error message. Nobody is pinged, whatever the text says (``allowed_mentions``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from yarl import URL

from reactclip.bot.errors import ConfigurationError
from reactclip.bot.review.folder import content_type

MAX_CONTENT_CHARS = 2000
"""Discord's limit on a message's content."""
ATTEMPTS = 3
MAX_RETRY_AFTER_S = 30.0
TIMEOUT = aiohttp.ClientTimeout(total=60)


class WebhookError(ConfigurationError):
    """The webhook could not be reached or refused a clip; the message says which and why."""


@dataclass(frozen=True)
class WebhookPost:
    """One message to post: the text and the clip file."""

    text: str
    path: Path


def webhook_url(url: str) -> URL:
    """``url`` as a webhook address to post to (``wait=true``: Discord answers with the message, or
    with an error, instead of accepting blindly)."""
    parsed = URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise WebhookError("the webhook URL must start with https:// (copy it from the channel's settings)")
    return parsed.update_query(wait="true")


async def post_clips(url: str, posts: Sequence[WebhookPost]) -> int:
    """Post each clip in order; the number posted. Stops at the first clip that cannot be posted."""
    target = webhook_url(url)
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        for number, post in enumerate(posts, start=1):
            try:
                await _post_one(session, target, post)
            except aiohttp.ClientError as exc:
                raise WebhookError(
                    f"could not reach the Discord webhook ({type(exc).__name__}); {number - 1} of "
                    f"{len(posts)} clips posted"
                ) from None
            except WebhookError as exc:
                raise WebhookError(f"{exc}; {number - 1} of {len(posts)} clips posted") from None
    return len(posts)


async def _post_one(session: aiohttp.ClientSession, target: URL, post: WebhookPost) -> None:
    payload = {"content": post.text[:MAX_CONTENT_CHARS], "allowed_mentions": {"parse": []}}
    data = await asyncio.to_thread(post.path.read_bytes)
    for _ in range(ATTEMPTS):
        form = aiohttp.FormData()
        form.add_field("payload_json", json.dumps(payload), content_type="application/json")
        form.add_field("files[0]", data, filename=post.path.name, content_type=content_type(post.path))
        async with session.post(target, data=form) as response:
            if response.status < 300:
                return
            body = await response.text()
            if response.status != 429:
                why = f"{response.status} {_why(body)}".strip()
                raise WebhookError(f"the Discord webhook refused {post.path.name}: {why}")
            await asyncio.sleep(min(_retry_after(response, body), MAX_RETRY_AFTER_S))
    raise WebhookError(f"the Discord webhook kept rate-limiting {post.path.name}")


def _retry_after(response: aiohttp.ClientResponse, body: str) -> float:
    """Seconds to wait after a 429: the body's ``retry_after``, else the header, else one."""
    try:
        return float(json.loads(body)["retry_after"])
    except (ValueError, KeyError, TypeError):
        pass
    try:
        return float(response.headers.get("Retry-After", "1"))
    except ValueError:
        return 1.0


def _why(body: str) -> str:
    """Discord's own message for an error (``{"message": ..., "code": ...}``), kept short."""
    try:
        message = json.loads(body).get("message")
    except (ValueError, AttributeError):
        message = None
    return f"({str(message)[:200]})" if message else ""
