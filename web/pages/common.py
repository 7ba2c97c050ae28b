"""What every page router shares: CSRF protection on every form post."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request

from web.security import same_token

# The order form sends a handful of fields per line, and an order may have 500 lines (the
# request's size limit still bounds what is parsed). Starlette parses a form once, with the
# limits of its first reader: this one.
MAX_FORM_FIELDS = 10_000


async def check_csrf(request: Request) -> None:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    form = await request.form(max_fields=MAX_FORM_FIELDS)
    if not same_token(request.session.get("csrf"), str(form.get("csrf_token") or "")):
        raise HTTPException(403, "This form has expired. Reload the page and try again.")


def page_router() -> APIRouter:
    return APIRouter(include_in_schema=False, dependencies=[Depends(check_csrf)])
