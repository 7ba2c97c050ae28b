"""Server-rendered pages in the user's language: one jinja2 environment per locale."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from i18n import LANGUAGE_NAMES, SUPPORTED, Formatter, labels, negotiate, translations
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
    templates.env.install_gettext_translations(translations(locale), newstyle=True)
    return templates


def locale_of(request: Request, user: Any = None) -> str:
    if user is not None and getattr(user, "locale", None) in SUPPORTED:
        return user.locale
    chosen = request.session.get("locale")
    if chosen in SUPPORTED:
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
    locale = locale_of(request, user)
    settings = request.app.state.settings
    t = translations(locale)
    return templates_for(locale).TemplateResponse(
        request,
        template,
        {
            "user": user,
            "locale": locale,
            "languages": LANGUAGE_NAMES,
            "fmt": Formatter(locale, settings.currency),
            "csrf_token": csrf_token(request),
            "labels": labels,
            "tr": t.gettext,
            "flash": request.session.pop("flash", None),
            **context,
        },
        status_code=status_code,
    )


def flash(request: Request, message: str, kind: str = "ok") -> None:
    request.session["flash"] = {"message": message, "kind": kind}
