"""A ceiling on the size of every request body, enforced before the body is read into memory."""

from __future__ import annotations

import html

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from i18n import N_, negotiate, translations

TOO_LARGE = N_("The request is too large: this service accepts at most %(limit)s.")


class RequestTooLarge(HTTPException):
    """The body grew past the limit while the application was reading it. An HTTPException, so
    that FastAPI passes it through its body parsing and the app's handler answers it like any
    other refusal (JSON under /api/, the error page elsewhere)."""

    def __init__(self, message: str) -> None:
        super().__init__(413, message)


def readable_size(size: int) -> str:
    """1048576 -> "1 MiB", 65536 -> "64 KiB", 1000 -> "1000 bytes"."""
    for unit, factor in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"


class RequestSizeLimit:
    """Refuses (413) a request whose body is larger than `max_bytes`: at once when its
    Content-Length says so, and otherwise (a chunked body, or one longer than it declared) as
    soon as the bytes received pass the limit, so an oversized body is never held whole."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length", "")
        if declared.isdecimal() and int(declared) > self.max_bytes:
            await self._refusal(scope, headers)(scope, receive, send)
            return

        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise RequestTooLarge(self._message(scope, headers))
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except RequestTooLarge:
            # read by something outside the app's own error handling (another middleware)
            if started:
                raise
            await self._refusal(scope, headers)(scope, receive, send)

    def _message(self, scope: Scope, headers: Headers) -> str:
        """The API answers in English, as its other errors do; a page in the browser's language."""
        limit = readable_size(self.max_bytes)
        if _is_api(scope):
            return TOO_LARGE % {"limit": limit}
        gettext = translations(negotiate(headers.get("accept-language"))).gettext
        return gettext(TOO_LARGE) % {"limit": limit}

    def _refusal(self, scope: Scope, headers: Headers) -> Response:
        # The connection is closed after the answer: the unread body is not waited for.
        close = {"connection": "close"}
        message = self._message(scope, headers)
        if _is_api(scope):
            return JSONResponse({"detail": message}, status_code=413, headers=close)
        page = (
            '<!doctype html><html><head><meta charset="utf-8"><title>413</title></head>'
            f'<body><p role="alert">{html.escape(message)}</p>'
            '<p><a href="/">&larr;</a></p></body></html>'
        )
        return HTMLResponse(page, status_code=413, headers=close)


def _is_api(scope: Scope) -> bool:
    return str(scope.get("path", "")).startswith("/api/")
