"""Signing in to the JSON API, and who the signed-in user is."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordRequestForm

from models.queries import sees_costs
from web.api import ApiRoute
from web.deps import ApiUser, SessionDep, TooManySignIns, sign_in, stamp_of
from web.schemas import Me, RowWith, Token
from web.templating import locale_of

router = APIRouter(prefix="/api/v1", route_class=ApiRoute)


@router.post("/auth/token", response_model=Token, tags=["auth"])
async def issue_token(
    request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep
) -> Token:
    """A bearer token for the username and password (OAuth2 password form); 429 with
    Retry-After after too many failed attempts. Signing out on the pages revokes it."""
    try:
        user = await sign_in(request, session, form.username, form.password)
    except TooManySignIns as refusal:
        raise HTTPException(
            429, refusal.message(locale_of(request)), headers=refusal.headers
        ) from None
    if user is None:
        raise HTTPException(401, "Wrong username or password.")
    return Token(
        access_token=request.app.state.token_signer.issue(user.id, stamp_of(request, user))
    )


@router.get("/me", response_model=Me, tags=["auth"])
async def me(user: ApiUser) -> Me:
    return Me.model_validate(RowWith(user, sees_costs=sees_costs(user)))
