"""What keeps the review page to its reviewers: it approves clips for publishing and runs the GPU, so
nobody else may drive it, neither over the network nor through a reviewer's own browser.

- Bound to a loopback address (the default), it answers only requests whose Host is a loopback
  name: another site cannot reach it through DNS rebinding.
- Bound elsewhere, every request carries the access token: the cookie set by visiting
  ``/?token=...`` (the link ``reactclip review`` prints), or the ``X-Review-Token`` header.
- Every POST (the only requests that change anything) carries its session's CSRF token (a hidden
  field or the ``X-CSRF-Token`` header) and comes from the page's own origin (Origin, else Referer).
- Responses forbid framing (keyboard shortcuts must not be clickjacked) and outside scripts.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware
from yarl import URL

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SESSION_COOKIE = "reactclip_review_session"
TOKEN_COOKIE = "reactclip_review_token"
TOKEN_HEADER = "X-Review-Token"
TOKEN_QUERY = "token"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SESSION_KEY = web.RequestKey("review_session", str)
"""Where a request's session id is kept (``request[SESSION_KEY]``)."""
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is reachable from this machine only."""
    if host.strip("[]") in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def access_token(host: str, given: str | None) -> str | None:
    """The token the page will require: ``given``, else a new one where ``host`` is not loopback,
    else none (a loopback page is guarded by its Host check)."""
    if given:
        return given
    return None if is_loopback(host) else secrets.token_urlsafe(24)


class PageGuard:
    """The middlewares of one review server. ``token`` None: loopback mode (Host checked)."""

    def __init__(self, token: str | None) -> None:
        self.token = token
        self._secret = secrets.token_bytes(32)  # a restart makes old pages reload before posting

    @property
    def middlewares(self) -> list[Middleware]:
        return [self._headers, self._host_or_token, self._session_and_csrf]

    def csrf_token(self, request: web.Request) -> str:
        """The token the page's forms carry for this request's session."""
        session = request[SESSION_KEY]
        return hmac.new(self._secret, session.encode(), hashlib.sha256).hexdigest()

    @web.middleware
    async def _headers(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as refusal:
            refusal.headers.update(HEADERS)
            raise
        response.headers.update(HEADERS)
        return response

    @web.middleware
    async def _host_or_token(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.token is None:
            if not is_loopback(request.url.host or ""):
                raise web.HTTPForbidden(text=f"this review page answers on loopback only, not {request.host}")
            return await handler(request)
        if TOKEN_QUERY in request.query:
            return self._login(request)
        given = request.cookies.get(TOKEN_COOKIE) or request.headers.get(TOKEN_HEADER) or ""
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            raise web.HTTPUnauthorized(
                text="this review page needs its token: open the link `reactclip review` printed"
            )
        return await handler(request)

    def _login(self, request: web.Request) -> web.StreamResponse:
        """``/?token=...``: the token goes into a cookie and out of the address bar (and history)."""
        given = request.query[TOKEN_QUERY]
        assert self.token is not None
        if request.method != "GET" or not hmac.compare_digest(given.encode(), self.token.encode()):
            raise web.HTTPForbidden(text="that is not this review page's token")
        response = web.HTTPSeeOther(request.rel_url.with_query(None))
        response.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="Strict", path="/")
        raise response

    @web.middleware
    async def _session_and_csrf(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        session = request.cookies.get(SESSION_COOKIE, "")
        known = 16 <= len(session) <= 64 and session.replace("-", "").replace("_", "").isalnum()
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            if not known:
                raise web.HTTPForbidden(text="no review session: reload the page, then try again")
            request[SESSION_KEY] = session
            self._check_origin(request)
            await self._check_csrf(request)
            return await handler(request)
        request[SESSION_KEY] = session if known else secrets.token_urlsafe(24)
        response = await handler(request)
        if not known:
            session = request[SESSION_KEY]
            response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="Strict", path="/")
        return response

    @staticmethod
    def _check_origin(request: web.Request) -> None:
        """The request comes from a page of this server: Origin, else Referer, names it."""
        own = f"{request.scheme}://{request.host}"
        origin = request.headers.get("Origin")
        if origin is None and "Referer" in request.headers:
            referer = URL(request.headers["Referer"])
            origin = f"{referer.scheme}://{referer.raw_authority}" if referer.absolute else None
        if origin != own:
            raise web.HTTPForbidden(text=f"cross-site request refused (from {origin or 'an unknown origin'})")

    async def _check_csrf(self, request: web.Request) -> None:
        given = request.headers.get(CSRF_HEADER)
        if given is None:
            form = await request.post()
            field = form.get(CSRF_FIELD)
            given = field if isinstance(field, str) else ""
        if not hmac.compare_digest(given.encode(), self.csrf_token(request).encode()):
            raise web.HTTPForbidden(text="this form expired or did not come from the review page: reload it")
