"""FastAPI dependencies: the session, the current user, the Temporal client, scoped loads."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from i18n import translations
from models.db import SessionFactory, read_one_view
from models.domain import Role
from models.passwords import verify_password
from models.queries import get_order
from models.tables import Order, User
from settings import Settings
from temporal_client import connect
from web.security import SessionStamps, SignInThrottle, TokenSigner, same_token
from web.templating import locale_of


class TemporalGateway:
    """Connects to Temporal on first use, so the app starts (and shows its pages) even while
    the engine is still starting."""

    def __init__(self, settings: Settings, client: Client | None = None) -> None:
        self._settings = settings
        self._client = client
        self._lock = asyncio.Lock()

    async def client(self) -> Client:
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    try:
                        self._client = await connect(self._settings)
                    except RuntimeError as error:
                        raise HTTPException(
                            503, "The workflow engine is not reachable; try again shortly."
                        ) from error
        return self._client


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    factory: SessionFactory = request.app.state.session_factory
    async with factory() as session:
        yield session


async def get_temporal(request: Request) -> Client:
    gateway: TemporalGateway = request.app.state.temporal
    return await gateway.client()


SessionDep = Annotated[AsyncSession, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
TemporalClient = Annotated[Client, Depends(get_temporal)]

bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def api_user(
    request: Request, session: SessionDep, token: Annotated[str | None, Depends(bearer)]
) -> User:
    """The user of a bearer token (the API), 401 without a valid one: a token issued before
    the user signed out (or their password changed) is no longer valid."""
    signer: TokenSigner = request.app.state.token_signer
    claims = signer.claims(token) if token else None
    user = await session.get(User, claims.user_id) if claims else None
    if (
        claims is None
        or user is None
        or not user.active
        or not same_token(stamp_of(request, user), claims.stamp)
    ):
        raise HTTPException(
            401, "Not signed in or the token has expired.", headers={"WWW-Authenticate": "Bearer"}
        )
    return user


ApiUser = Annotated[User, Depends(api_user)]


async def scoped_order(number: str, user: ApiUser, session: SessionDep) -> Order:
    """The order if the user may see it; 404 otherwise (so order numbers don't leak)."""
    order = await get_order(session=session, user=user, number=number)
    if order is None:
        raise HTTPException(404, f"There is no order {number}.")
    return order


ScopedOrder = Annotated[Order, Depends(scoped_order)]


class PageLogin(Exception):
    """A page needs a signed-in user; the app redirects to the login page."""


async def session_user(request: Request, session: AsyncSession) -> User | None:
    """The user the session cookie signs in; None when it signs in no one, or a user who has
    signed out since (a copy of the cookie kept from before does not sign anyone in)."""
    user_id = request.session.get("user_id")
    user = await session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.active:
        return None
    if not same_token(stamp_of(request, user), request.session.get("stamp")):
        return None
    return user


async def page_user(request: Request, session: SessionDep) -> User:
    user = await session_user(request, session)
    if user is None:
        raise PageLogin()
    return user


PageUser = Annotated[User, Depends(page_user)]


async def page_admin(user: PageUser) -> User:
    if user.role != Role.admin.value:
        raise HTTPException(403, "This page is for administrators.")
    return user


PageAdmin = Annotated[User, Depends(page_admin)]


async def page_order(request: Request, number: str, user: PageUser, session: SessionDep) -> Order:
    """The order if the signed-in user may see it; the page's 404 otherwise (so order numbers
    don't leak), in the user's language."""
    order = await get_order(session=session, user=user, number=number)
    if order is None:
        gettext = translations(locale_of(request, user)).gettext
        raise HTTPException(404, gettext("There is no such order."))
    return order


PageOrder = Annotated[Order, Depends(page_order)]


async def shown_order(request: Request, number: str, user: PageUser, session: SessionDep) -> Order:
    """The order for a page that only shows it: the order and all the page reads about it in
    one view of the database, though a workflow step commits while the page is made."""
    await read_one_view(session)
    return await page_order(request, number, user, session)


ShownOrder = Annotated[Order, Depends(shown_order)]


async def user_by_name(session: AsyncSession, username: str) -> User | None:
    return await session.scalar(select(User).where(User.username == username))


def stamp_of(request: Request, user: User) -> str:
    stamps: SessionStamps = request.app.state.session_stamps
    return stamps.of(user)


class TooManySignIns(Exception):
    """Sign-in is throttled after too many failures; the right password waits too."""

    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds

    def message(self, locale: str) -> str:
        t = translations(locale)
        minutes = math.ceil(self.seconds / 60)
        if minutes <= 1:
            return t.gettext("Too many failed sign-ins; try again in a minute.")
        return t.gettext("Too many failed sign-ins; try again in %(minutes)s minutes.") % {
            "minutes": minutes
        }

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.seconds)}


async def sign_in(
    request: Request, session: AsyncSession, username: str, password: str
) -> User | None:
    """The active user with this username and password, for the sign-in page and the API
    token. None when they do not match; TooManySignIns after too many failures (for the
    username or from the client's address), whatever the password."""
    throttle: SignInThrottle = request.app.state.sign_in_throttle
    address = request.client.host if request.client else ""
    wait = await throttle.seconds_to_wait(username, address)
    if wait:
        raise TooManySignIns(wait)
    user = await user_by_name(session, username)
    # Argon2 takes tens of milliseconds of CPU on purpose: keep it off the event loop.
    verified = await asyncio.to_thread(
        verify_password, user.password_hash if user else None, password
    )
    if not verified or user is None or not user.active:
        await throttle.failed(username, address)
        return None
    await throttle.succeeded(username)
    return user
