"""The language after signing in: a user who has not chosen one in their profile keeps the one
picked on the login page or asked for by the browser; a choice saved in the profile wins."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from tests.conftest import DEMO_PASSWORD
from tests.web.conftest import csrf_of
from tests.web.test_i18n import (  # noqa: F401 (zh_catalog_compiled: the fixture needs_catalog names)
    choose_language,
    needs_catalog,
    text_of,
    zh_catalog_compiled,
)

Browser = Callable[..., Awaitable[httpx.AsyncClient]]

pytestmark = needs_catalog


@pytest.fixture
async def browser(app) -> AsyncIterator[Browser]:
    """browser(accept_language=...) -> a new httpx client on the app, as a fresh browser."""
    clients: list[httpx.AsyncClient] = []

    async def open_browser(accept_language: str = "en-US,en;q=0.8") -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://testserver",
            headers={"Accept-Language": accept_language},
        )
        clients.append(client)
        return client

    yield open_browser
    for client in clients:
        await client.aclose()


async def sign_in(client: httpx.AsyncClient, username: str) -> httpx.Response:
    """Sign in through the login form and follow the redirect to the inbox."""
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
    return await client.get(response.headers["location"])


async def test_chinese_picked_on_the_login_page_stays_after_signing_in(browser):
    client = await browser()  # an English browser
    login_page = await client.get("/language/zh_CN?next=/login", follow_redirects=True)
    assert "用户名" in text_of(login_page)

    inbox = text_of(await sign_in(client, "sales"))
    assert '<html lang="zh-CN">' in inbox
    assert "我的待办" in inbox and "My to-dos" not in inbox


async def test_a_chinese_browser_gets_chinese_after_signing_in(browser):
    client = await browser("zh-CN,zh;q=0.9,en;q=0.5")

    inbox = text_of(await sign_in(client, "finance"))
    assert '<html lang="zh-CN">' in inbox
    assert "我的待办" in inbox and "My to-dos" not in inbox


async def test_english_chosen_in_the_profile_stays_in_a_chinese_browser(browser):
    first = await browser("zh-CN,zh;q=0.9")
    await sign_in(first, "pricing")
    assert "Your language is saved." in text_of(await choose_language(first, "en"))

    chinese_browser = await browser("zh-CN,zh;q=0.9")
    inbox = text_of(await sign_in(chinese_browser, "pricing"))
    assert "My to-dos" in inbox and "我的待办" not in inbox

    # picking Chinese on the login page before signing in does not undo the saved choice either
    picked = await browser("zh-CN,zh;q=0.9")
    await picked.get("/language/zh_CN?next=/login", follow_redirects=True)
    assert "My to-dos" in text_of(await sign_in(picked, "pricing"))


async def test_a_user_without_a_choice_follows_each_browser(browser):
    chinese = text_of(await sign_in(await browser("zh-CN"), "ops"))
    english = text_of(await sign_in(await browser("en-US"), "ops"))
    assert "我的待办" in chinese
    assert "My to-dos" in english and "我的待办" not in english
