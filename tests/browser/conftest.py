"""Browser fixtures: the real app served by uvicorn on a free local port (in the test's own event
loop, with a worker on the time-skipping server) and Debian's Chromium driven by Playwright.

No browser is ever downloaded: Playwright launches /usr/bin/chromium. Without it the browser
tests skip with a reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.conftest import DEMO_PASSWORD
from tests.web.conftest import app, worker  # noqa: F401 - fixtures shared with tests/web

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_MISSING = "Chromium not installed: apt-get install chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000  # one page action or expectation; the workflow steps take well under 1 s


class _Server(uvicorn.Server):
    """uvicorn inside the test's event loop, leaving signal handling (Ctrl-C) to pytest."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@pytest.fixture
async def live_server(app, worker) -> AsyncIterator[str]:  # noqa: F811
    """The app at http://127.0.0.1:<free port>, with a worker running the workflows."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="warning", ws="none", lifespan="on", timeout_graceful_shutdown=2
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:
                if task.done():  # startup failed: show why
                    await task
                await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(CHROMIUM_MISSING)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        await launched.close()


SignIn = Callable[..., Awaitable[Page]]
# The login form's words and the browser's locale, by interface language.
LOGIN_WORDS = {"en": ("Username", "Password", "Sign in"), "zh_CN": ("用户名", "密码", "登录")}
BROWSER_LOCALE = {"en": "en-US", "zh_CN": "zh-CN"}


@pytest.fixture
async def sign_in(browser: Browser, live_server: str) -> AsyncIterator[SignIn]:
    """sign_in("sales") -> a page in a browser context of its own (own cookies), signed in
    through the login form and showing the inbox; sign_in("sales", "zh_CN", width=1366) does it
    in a browser asking for Chinese, through the Chinese login form (seeded users have no saved
    language, so the pages follow the browser)."""
    contexts: list[BrowserContext] = []

    async def login(
        username: str, language: str = "en", *, width: int = 1280, height: int = 900
    ) -> Page:
        context = await browser.new_context(
            base_url=live_server,
            locale=BROWSER_LOCALE[language],
            viewport={"width": width, "height": height},
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = await context.new_page()
        await page.goto("/login")
        name, password, button = LOGIN_WORDS[language]
        await page.get_by_label(name).fill(username)
        await page.get_by_label(password).fill(DEMO_PASSWORD)
        await page.get_by_role("button", name=button, exact=True).click()
        await page.wait_for_url(f"{live_server}/")
        return page

    yield login
    for context in contexts:
        await context.close()
