"""Sign in, sign out and the user's profile (language)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from i18n import SUPPORTED, translations
from web.deps import PageUser, SessionDep, TooManySignIns, session_user, sign_in, stamp_of
from web.pages.common import page_router
from web.templating import flash, locale_of, render

router = page_router()


def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login")
async def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "login.html", next=_safe_next(next))


@router.post("/login")
async def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    try:
        user = await sign_in(request, session, username.strip(), password)
    except TooManySignIns as refusal:
        page = render(
            request,
            "login.html",
            status_code=429,
            next=_safe_next(next),
            username=username,
            error=refusal.message(locale_of(request)),
        )
        page.headers.update(refusal.headers)
        return page
    if user is None:
        t = translations(locale_of(request))
        return render(
            request,
            "login.html",
            status_code=401,
            next=_safe_next(next),
            username=username,
            error=t.gettext("Wrong username or password."),
        )
    csrf = request.session.get("csrf")
    picked = request.session.get("locale")  # on the login page, before signing in
    request.session.clear()
    request.session.update({"user_id": user.id, "stamp": stamp_of(request, user), "csrf": csrf})
    # The choice saved in the profile wins; a user who has made none keeps the language picked on
    # the login page (or, with no pick, their browser's). Kept in the session so that pages
    # rendered without the user (error pages) speak it too.
    locale = user.locale or picked
    if locale:
        request.session["locale"] = locale
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
async def logout(request: Request, session: SessionDep) -> RedirectResponse:
    user = await session_user(request, session)
    if user is not None:
        # Every cookie and bearer token issued to the user so far carries the old version's
        # stamp: a copy kept from before sign-out signs no one in (on any device).
        user.session_version += 1
        await session.commit()
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/profile")
async def profile(request: Request, user: PageUser) -> HTMLResponse:
    return render(request, "profile.html", user=user)


@router.post("/profile")
async def save_profile(
    request: Request, user: PageUser, session: SessionDep, locale: Annotated[str, Form()] = ""
) -> Response:
    if locale not in SUPPORTED:
        return render(
            request,
            "profile.html",
            user=user,
            status_code=422,
            error=translations(locale_of(request, user)).gettext(
                "Choose a language from the list."
            ),
        )
    user.locale = locale
    await session.commit()
    request.session["locale"] = locale
    flash(request, translations(locale).gettext("Your language is saved."))
    return RedirectResponse("/profile", status_code=303)


@router.get("/language/{locale}")
async def choose_language(request: Request, locale: str, next: str = "/") -> RedirectResponse:
    """For people not signed in yet (the login page's language links)."""
    if locale in SUPPORTED:
        request.session["locale"] = locale
    return RedirectResponse(_safe_next(next), status_code=303)
