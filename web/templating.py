"""Server-rendered pages in the user's language: one jinja2 environment per locale."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any
from uuid import uuid4

import jinja2
from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from i18n import LANGUAGE_NAMES, SUPPORTED, Formatter, labels, negotiate, translations
from web.company_zone import time_zone_of
from web.security import new_csrf_token

TEMPLATES = Path(__file__).resolve().parent / "templates"


@lru_cache
def templates_for(locale: str) -> Jinja2Templates:
    # Starlette 1.x takes no Environment options, so the environment is built here.
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(),
        extensions=["jinja2.ext.i18n"],
    )
    templates = Jinja2Templates(env=env)
    # jinja2.ext.i18n adds this method to the environment at run time; its stubs do not declare it.
    templates.env.install_gettext_translations(  # type: ignore[attr-defined]
        translations(locale), newstyle=True
    )
    return templates


def locale_of(request: Request, user: Any = None) -> str:
    preferred = getattr(user, "locale", None) if user is not None else None
    if isinstance(preferred, str) and preferred in SUPPORTED:
        return preferred
    chosen = request.session.get("locale")
    if isinstance(chosen, str) and chosen in SUPPORTED:
        return chosen
    return negotiate(
        request.headers.get("accept-language"), request.app.state.settings.default_locale
    )


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = new_csrf_token()
        request.session["csrf"] = token
    return token


def render(
    request: Request,
    template: str,
    *,
    user: Any = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    return _page(
        request,
        template,
        user=user,
        locale=locale_of(request, user),
        flash=request.session.pop("flash", None),
        status_code=status_code,
        **context,
    )


def render_for_link(
    request: Request,
    template: str,
    *,
    recipient: Any = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page reached through a link in an e-mail by someone who is not signed in: in the
    recipient's language (their mail was in it), else the browser's; with no user, so no menu
    or sign-out as if the link had logged someone in; and, since the URL is the credential,
    kept out of Referer headers and shared caches."""
    response = _page(
        request,
        template,
        user=None,
        locale=locale_of(request, recipient),
        flash=None,
        status_code=status_code,
        **context,
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(
    request: Request,
    template: str,
    *,
    user: Any,
    locale: str,
    flash: dict[str, str] | None,
    status_code: int,
    **context: Any,
) -> HTMLResponse:
    return templates_for(locale).TemplateResponse(
        request,
        template,
        {
            "user": user,
            "locale": locale,
            "languages": LANGUAGE_NAMES,
            "fmt": Formatter(locale, request.app.state.settings.currency, time_zone_of(request)),
            "csrf_token": csrf_token(request),
            # One per page shown: a form sent twice with it (a lost answer, a double click) is
            # one action.
            "action_key": uuid4().hex,
            "labels": labels,
            "tr": translations(locale).gettext,
            "flash": flash,
            # the list's "Export CSV/XLSX" links: for the roles that may export
            "may_export": user is not None
            and getattr(user, "role", None) in getattr(request.state, "export_roles", ()),
            **context,
        },
        status_code=status_code,
    )


def flash(request: Request, message: str, kind: str = "ok") -> None:
    request.session["flash"] = {"message": message, "kind": kind}
