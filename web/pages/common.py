"""What every page router shares: CSRF protection on every form post."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request

from web.security import same_token


async def check_csrf(request: Request) -> None:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    form = await request.form()
    if not same_token(request.session.get("csrf"), str(form.get("csrf_token") or "")):
        raise HTTPException(403, "This form has expired. Reload the page and try again.")


def page_router() -> APIRouter:
    return APIRouter(include_in_schema=False, dependencies=[Depends(check_csrf)])
