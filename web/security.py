"""Sign-in security: bearer tokens, session stamps, CSRF tokens, sign-in throttling, the session
cookie's Secure flag and the browser's security headers."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
from collections.abc import Collection
from typing import Literal, NamedTuple, Protocol

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from starlette.datastructures import MutableHeaders
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class SignedInUser(Protocol):
    id: int
    session_version: int
    password_hash: str


class SessionStamps:
    """What a session cookie or bearer token carries besides the user id: it changes when the
    user signs out (session_version) or their password changes, and with it every cookie and
    token issued before stops working."""

    def __init__(self, secret_key: str) -> None:
        self._key = hashlib.sha256(f"o2c-session-stamp:{secret_key}".encode()).digest()

    def of(self, user: SignedInUser) -> str:
        message = f"{user.id}:{user.session_version}:{user.password_hash}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]


class TokenClaims(NamedTuple):
    user_id: int
    stamp: str


class TokenSigner:
    def __init__(self, secret_key: str, lifetime_minutes: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="o2c-api-token")
        self._max_age = lifetime_minutes * 60

    def issue(self, user_id: int, stamp: str) -> str:
        return self._serializer.dumps({"uid": user_id, "sv": stamp})

    def claims(self, token: str) -> TokenClaims | None:
        """Whom a token was issued to and with which stamp; None when forged or expired."""
        try:
            payload = self._serializer.loads(token, max_age=self._max_age)
        except (BadSignature, SignatureExpired):
            return None
        if not isinstance(payload, dict):
            return None
        uid, stamp = payload.get("uid"), payload.get("sv")
        if not isinstance(uid, int) or not isinstance(stamp, str):
            return None
        return TokenClaims(uid, stamp)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(expected: str | None, given: str | None) -> bool:
    if not expected or not given:
        return False
    return secrets.compare_digest(expected, given)


class SignInThrottle:
    """Counts failed sign-ins per username and per client address in a moving window (the
    `limits` library). Past either limit, sign-in is refused, right password or not, until
    the oldest failure leaves the window. Successful sign-ins are not counted, so many people
    signing in from one office address are not throttled."""

    def __init__(self, storage_uri: str, per_user: str, per_address: str) -> None:
        # The async storage, so that a shared store (redis) is not waited on in the event loop.
        uri = storage_uri if storage_uri.startswith("async+") else f"async+{storage_uri}"
        self._limiter = MovingWindowRateLimiter(storage_from_string(uri))
        self._per_user = parse(per_user)
        self._per_address = parse(per_address)

    def _counters(self, username: str, address: str) -> list[tuple[RateLimitItem, str, str]]:
        # usernames are at most 50 characters; a longer one is counted as its first 100
        name = username.strip().casefold()[:100]
        return [(self._per_user, "user", name), (self._per_address, "address", address)]

    async def seconds_to_wait(self, username: str, address: str) -> int:
        """0 while sign-in may be tried, else how long until it may be tried again."""
        waits = [0.0]
        for item, kind, key in self._counters(username, address):
            if not await self._limiter.test(item, "sign-in", kind, key):
                stats = await self._limiter.get_window_stats(item, "sign-in", kind, key)
                waits.append(max(stats.reset_time - time.time(), 1.0))
        return math.ceil(max(waits))

    async def failed(self, username: str, address: str) -> None:
        for item, kind, key in self._counters(username, address):
            await self._limiter.hit(item, "sign-in", kind, key)

    async def succeeded(self, username: str) -> None:
        # The address keeps its count: otherwise one's own account would reset it.
        item, kind, key = self._counters(username, "")[0]
        await self._limiter.clear(item, "sign-in", kind, key)


class SessionCookie:
    """Starlette's SessionMiddleware, whose cookie is marked Secure when the request came over
    HTTPS (as the server or a trusted proxy says) or when `always_secure`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        always_secure: bool,
        secret_key: str,
        session_cookie: str,
        max_age: int,
        same_site: Literal["lax", "strict", "none"],
    ) -> None:
        def middleware(https_only: bool) -> SessionMiddleware:
            return SessionMiddleware(
                app,
                secret_key=secret_key,
                session_cookie=session_cookie,
                max_age=max_age,
                same_site=same_site,
                https_only=https_only,
            )

        self._https = middleware(https_only=True)
        self._http = self._https if always_secure else middleware(https_only=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        chosen = self._https if scope.get("scheme") in ("https", "wss") else self._http
        await chosen(scope, receive, send)


_COMMON_POLICY = (
    "frame-ancestors 'none'",
    "form-action 'self'",
    "base-uri 'self'",
    "object-src 'none'",
)
# Pages have no script of their own; templates use style attributes (and one <style> block).
SITE_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        *_COMMON_POLICY,
    )
)
# FastAPI's /docs (Swagger UI) and /redoc load their scripts, styles and icon from a CDN and
# start with an inline script; those pages show only the API's own description.
DOCS_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net",
        "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com",
        "font-src 'self' https://fonts.gstatic.com",
        "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly",
        "worker-src 'self' blob:",
        *_COMMON_POLICY,
    )
)
_OTHER_HEADERS = (
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    # Decision links carry their token in the URL: no other site sees it in a Referer.
    ("Referrer-Policy", "same-origin"),
)


class SecurityHeaders:
    """Puts the browser's security headers on every response that does not set its own (a
    decision-link page sends no Referer at all); `docs_paths` get the CSP that /docs needs."""

    def __init__(self, app: ASGIApp, *, docs_paths: Collection[str]) -> None:
        self._app = app
        self._docs_paths = frozenset(docs_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        policy = DOCS_POLICY if scope["path"] in self._docs_paths else SITE_POLICY

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in (("Content-Security-Policy", policy), *_OTHER_HEADERS):
                    if name not in headers:
                        headers.append(name, value)
            await send(message)

        await self._app(scope, receive, send_with_headers)
