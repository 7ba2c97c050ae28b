"""Web fixtures: the real app over the test database, a worker on the time-skipping server, and
httpx clients signed in as each demo role (API by bearer token, pages by session cookie)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from tests.conftest import DEMO_PASSWORD
from web.app import create_app
from worker import build_worker


@pytest.fixture
async def app(settings, session_factory, env):
    return create_app(settings, session_factory=session_factory, temporal_client=env.client)


@pytest.fixture
async def worker(env, session_factory, settings):
    async with build_worker(env.client, session_factory, settings) as running:
        yield running


@pytest.fixture
async def http(app) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        yield client


ApiLogin = Callable[[str], Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def api(app) -> AsyncIterator[ApiLogin]:
    """api("sales") -> an httpx client carrying that user's bearer token."""
    clients: list[httpx.AsyncClient] = []

    async def login(username: str) -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        )
        clients.append(client)
        response = await client.post(
            "/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD}
        )
        assert response.status_code == 200, response.text
        client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        return client

    yield login
    for client in clients:
        await client.aclose()


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


@pytest.fixture
async def browser_session(app) -> AsyncIterator[ApiLogin]:
    """browser_session("sales") -> an httpx client signed in through the login form."""
    clients: list[httpx.AsyncClient] = []

    async def login(username: str) -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        )
        clients.append(client)
        page = await client.get("/login")
        response = await client.post(
            "/login",
            data={
                "username": username,
                "password": DEMO_PASSWORD,
                "next": "/",
                "csrf_token": csrf_of(page.text),
            },
        )
        assert response.status_code == 303, response.text
        return client

    yield login
    for client in clients:
        await client.aclose()
