"""The review page's routes: every draft of a batch folder with its clip, text, seed, status and
verdicts; approve, reject, remake with a new seed, edit the text and remake; export or post the
approved ones.

Forms post and redirect back (so the page works without JavaScript and a reload never re-posts);
static/review.js adds the keyboard shortcuts. Clips are served by draft id, looked up in the
manifest (folder.py): no route takes a path.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import aiohttp_jinja2
import jinja2
from aiohttp import web

from reactclip.bot.errors import UserInputError
from reactclip.bot.review.export import approved_clips, export_zip
from reactclip.bot.review.folder import BatchFolder, content_type
from reactclip.bot.review.remake import DraftRemaker, ServiceFactory
from reactclip.bot.review.security import SESSION_KEY, PageGuard
from reactclip.bot.review.store import DecisionStore
from reactclip.bot.review.webhook import WebhookError, WebhookPost, post_clips

HERE = Path(__file__).parent
STATIC = {"review.js": "text/javascript", "review.css": "text/css"}
REVIEWER_COOKIE = "reactclip_reviewer"
MAX_REVIEWER_CHARS = 40
MAX_REASON_CHARS = 500
PAGE_NOTICE = ""
"""The notice key of messages about the whole page (an export), not one draft."""


@dataclass(frozen=True)
class ReviewConfig:
    """What ``reactclip review`` was asked for: the folder, the reviewer's name if given on the
    command line (else the page asks), and the webhook to post approved clips to, if any."""

    folder: Path
    reviewer: str | None = None
    webhook_url: str | None = None


@dataclass
class ReviewState:
    """Everything one review server holds."""

    config: ReviewConfig
    folder: BatchFolder
    store: DecisionStore
    remaker: DraftRemaker
    guard: PageGuard
    notices: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    """Per session, per draft id (PAGE_NOTICE for the page): (kind, message) to show once."""

    def notify(self, request: web.Request, key: str, kind: str, message: str) -> None:
        self.notices.setdefault(request[SESSION_KEY], {})[key] = (kind, message)


STATE = web.AppKey("review_state", ReviewState)


def review_app(config: ReviewConfig, service_factory: ServiceFactory, guard: PageGuard) -> web.Application:
    """The page's application for ``config.folder`` (its manifest read now: a wrong folder fails
    before anything listens)."""
    folder = BatchFolder(config.folder)
    state = ReviewState(
        config, folder, DecisionStore.in_folder(config.folder), DraftRemaker(folder, service_factory), guard
    )
    app = web.Application(middlewares=guard.middlewares)
    app[STATE] = state
    aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)
    app.router.add_get("/", page)
    app.router.add_get("/clips/{draft_id}", clip)
    app.router.add_get("/static/{name}", static)
    app.router.add_post("/reviewer", set_reviewer)
    app.router.add_post("/drafts/{draft_id}/decision", decide)
    app.router.add_post("/drafts/{draft_id}/regenerate", regenerate)
    app.router.add_post("/drafts/{draft_id}/edit", edit)
    app.router.add_post("/export", export)
    app.router.add_post("/post", post_to_discord)

    async def close_service(app: web.Application) -> None:
        await app[STATE].remaker.aclose()

    app.on_cleanup.append(close_service)
    return app


# Reading ----------------------------------------------------------------------------------------


async def page(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    decisions = state.store.current()
    notices = state.notices.pop(request[SESSION_KEY], {})
    cards = []
    for draft in state.folder.drafts:
        path = state.folder.clip_path(draft)
        cards.append(
            {
                "draft": draft,
                "decision": decisions.get(draft.id),
                "clip_url": f"/clips/{quote(draft.id)}?v={path.stat().st_mtime_ns}" if path else None,
                "media": ("video" if path.suffix == ".mp4" else "image") if path else None,
                "notice": notices.get(draft.id),
            }
        )
    made = [decision.decision for decision in decisions.values()]
    counts = {name: made.count(name) for name in ("approved", "rejected")}
    context = {
        "folder": state.folder.root,
        "cards": cards,
        "counts": counts,
        "reviewer": reviewer_of(request),
        "reviewer_fixed": state.config.reviewer is not None,
        "csrf_token": state.guard.csrf_token(request),
        "webhook": state.config.webhook_url is not None,
        "page_notice": notices.get(PAGE_NOTICE),
    }
    response = aiohttp_jinja2.render_template("review.html", request, context)
    response.headers["Cache-Control"] = "no-store"
    return response


async def clip(request: web.Request) -> web.StreamResponse:
    """A draft's clip by its id; 404 for anything that is not a draft with a clip."""
    folder = request.app[STATE].folder
    draft = folder.get(request.match_info["draft_id"])
    path = folder.clip_path(draft) if draft is not None else None
    if path is None:
        raise web.HTTPNotFound(text="no such clip")
    return web.FileResponse(path, headers={"Content-Type": content_type(path), "Cache-Control": "no-cache"})


async def static(request: web.Request) -> web.StreamResponse:
    """The page's script and style sheet: two names, never a path."""
    name = request.match_info["name"]
    if name not in STATIC:
        raise web.HTTPNotFound()
    return web.FileResponse(HERE / "static" / name, headers={"Content-Type": STATIC[name]})


def reviewer_of(request: web.Request) -> str | None:
    fixed = request.app[STATE].config.reviewer
    return fixed or clean_name(unquote(request.cookies.get(REVIEWER_COOKIE, ""))) or None


def clean_name(name: str) -> str:
    return " ".join("".join(c for c in name if c.isprintable()).split())[:MAX_REVIEWER_CHARS]


# Deciding and remaking --------------------------------------------------------------------------


async def set_reviewer(request: web.Request) -> web.StreamResponse:
    name = clean_name(str((await request.post()).get("name", "")))
    response = web.HTTPSeeOther("/")
    if name:
        response.set_cookie(
            REVIEWER_COOKIE, quote(name), max_age=365 * 86400, httponly=True, samesite="Strict", path="/"
        )
    raise response


async def decide(request: web.Request) -> web.StreamResponse:
    state, draft_id, form = await _draft_form(request)
    reviewer = _reviewer_or_notice(request, draft_id)
    decision = str(form.get("decision", ""))
    if reviewer and decision in ("approved", "rejected"):
        draft = state.folder.get(draft_id)
        reason = str(form.get("reason", "")).strip()[:MAX_REASON_CHARS] if decision == "rejected" else None
        state.store.record(draft_id, decision, reviewer, reason, seed=draft.seed if draft else None)
    elif reviewer:
        raise web.HTTPBadRequest(text="decision must be approved or rejected")
    raise _back_to(draft_id)


async def regenerate(request: web.Request) -> web.StreamResponse:
    _, draft_id, _ = await _draft_form(request)
    await _remake(request, draft_id, text=None)
    raise _back_to(draft_id)


async def edit(request: web.Request) -> web.StreamResponse:
    _, draft_id, form = await _draft_form(request)
    await _remake(request, draft_id, text=str(form.get("text", "")))
    raise _back_to(draft_id)


async def _remake(request: web.Request, draft_id: str, text: str | None) -> None:
    """Remake the draft; what came of it is the draft's notice (a refusal in words, never a trace)."""
    state = request.app[STATE]
    reviewer = _reviewer_or_notice(request, draft_id)
    if reviewer is None:
        return
    try:
        outcome = await state.remaker.remake(draft_id, text=text)
    except UserInputError as exc:
        state.notify(request, draft_id, "refused", str(exc))
        return
    if outcome.replaced:
        seed = outcome.attempt.seed
        how = "text edited, remade" if text is not None else "remade"
        state.store.record(draft_id, "pending", reviewer, f"{how} with seed {seed}", seed)
    state.notify(request, draft_id, "ok" if outcome.replaced else "refused", outcome.message)


async def _draft_form(request: web.Request) -> tuple[ReviewState, str, Mapping[str, Any]]:
    state = request.app[STATE]
    draft_id = request.match_info["draft_id"]
    if state.folder.get(draft_id) is None:
        raise web.HTTPNotFound(text="no such draft")
    return state, draft_id, await request.post()


def _reviewer_or_notice(request: web.Request, key: str) -> str | None:
    reviewer = reviewer_of(request)
    if reviewer is None:
        request.app[STATE].notify(request, key, "refused", "tell the page your name first (at the top)")
    return reviewer


def _back_to(draft_id: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"/#draft-{quote(draft_id)}")


# Taking the approved ones out -------------------------------------------------------------------


async def export(request: web.Request) -> web.StreamResponse:
    """The approved clips and their manifest as a zip download."""
    state = request.app[STATE]
    clips = approved_clips(state.folder, state.store.current())
    if not clips:
        state.notify(request, PAGE_NOTICE, "refused", "nothing is approved yet: nothing to export")
        raise web.HTTPSeeOther("/")
    buffer = io.BytesIO()
    await asyncio.to_thread(export_zip, state.folder, clips, buffer)
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", state.folder.root.resolve().name) or "drafts"
    return web.Response(
        body=buffer.getvalue(),
        content_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}-approved.zip"'},
    )


async def post_to_discord(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    url = state.config.webhook_url
    if url is None:
        raise web.HTTPNotFound(text="no webhook configured: start reactclip review with --webhook-url")
    clips = approved_clips(state.folder, state.store.current())
    try:
        posted = await post_clips(url, [WebhookPost(c.draft.text, c.path) for c in clips])
    except WebhookError as exc:
        state.notify(request, PAGE_NOTICE, "refused", str(exc))
    else:
        state.notify(request, PAGE_NOTICE, "ok", f"posted {posted} approved clips to Discord")
    raise web.HTTPSeeOther("/")
