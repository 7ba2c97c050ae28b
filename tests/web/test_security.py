"""Sessions and headers: sign-in throttling, sign-out that revokes cookies and tokens, the
session cookie's Secure flag, and the browser's security headers."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import limits.aio.storage.memory
import pytest
from sqlalchemy import select, update

from models.admin import set_user_active
from models.passwords import hash_password
from models.tables import User
from tests.conftest import DEMO_PASSWORD
from tests.web.conftest import csrf_of
from web.app import create_app

# The limiter's clock is the test's (see `clock`): a window a slow machine cannot outrun.
WINDOW_SECONDS = 60


class Clock:
    """Stands in for the `time` module the limiter's memory store reads."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(autouse=True)
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(limits.aio.storage.memory, "time", fake)
    return fake


Client = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def client(settings, session_factory, env) -> AsyncIterator[Client]:
    """client(**settings) -> an httpx client on a new app with those settings changed; sign-in
    limits by default: 5 failures per username, 8 per address, in a window of a few seconds."""
    clients: list[httpx.AsyncClient] = []

    async def new_client(
        base_url: str = "http://testserver", headers: dict[str, str] | None = None, **changes: Any
    ) -> httpx.AsyncClient:
        changes = {
            "sign_in_failures_per_user": f"5 per {WINDOW_SECONDS} seconds",
            "sign_in_failures_per_address": f"8 per {WINDOW_SECONDS} seconds",
            **changes,
        }
        app = create_app(
            settings.model_copy(update=changes),
            session_factory=session_factory,
            temporal_client=env.client,
        )
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=base_url, headers=headers
        )
        clients.append(http)
        return http

    yield new_client
    for http in clients:
        await http.aclose()


async def sign_in_page(http: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    page = await http.get("/login")
    return await http.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "next": "/",
            "csrf_token": csrf_of(page.text),
        },
    )


async def sign_in_api(http: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await http.post("/api/v1/auth/token", data={"username": username, "password": password})


async def sign_out(http: httpx.AsyncClient) -> httpx.Response:
    page = await http.get("/profile")
    assert page.status_code == 200
    return await http.post("/logout", data={"csrf_token": csrf_of(page.text)})


def copy_of(http: httpx.AsyncClient) -> httpx.AsyncClient:
    """Another client carrying the same cookies, as if the cookie had been copied."""
    copied = httpx.AsyncClient(transport=http._transport, base_url=http.base_url)
    for cookie in http.cookies.jar:
        copied.cookies.jar.set_cookie(cookie)
    return copied


# --- throttling ---------------------------------------------------------------------------------


async def test_the_sixth_wrong_password_is_refused_and_then_the_right_one_too_until_the_window_ends(
    client, clock
):
    http = await client()
    for _ in range(5):
        response = await sign_in_page(http, "sales", "wrong")
        assert response.status_code == 401
        assert "Wrong username or password." in response.text

    sixth = await sign_in_page(http, "sales", "wrong")
    assert sixth.status_code == 429
    right = await sign_in_page(http, "sales", DEMO_PASSWORD)
    assert right.status_code == 429
    assert "Too many failed sign-ins; try again in a minute." in right.text
    wait = int(right.headers["Retry-After"])
    assert 1 <= wait <= WINDOW_SECONDS
    assert "/profile" not in right.text  # still not signed in

    clock.advance(wait + 1)
    response = await sign_in_page(http, "sales", DEMO_PASSWORD)
    assert response.status_code == 303
    assert (await http.get("/profile")).status_code == 200


async def test_the_api_token_endpoint_is_throttled_the_same_way(client, clock):
    http = await client()
    for _ in range(5):
        response = await sign_in_api(http, "finance", "wrong")
        assert response.status_code == 401
        assert response.json() == {"detail": "Wrong username or password."}

    right = await sign_in_api(http, "finance", DEMO_PASSWORD)
    assert right.status_code == 429
    assert right.json() == {"detail": "Too many failed sign-ins; try again in a minute."}
    wait = int(right.headers["Retry-After"])
    assert 1 <= wait <= WINDOW_SECONDS

    clock.advance(wait + 1)
    response = await sign_in_api(http, "finance", DEMO_PASSWORD)
    assert response.status_code == 200
    assert "access_token" in response.json()


async def test_failures_on_the_page_and_the_api_count_together(client):
    http = await client()
    for _ in range(3):
        assert (await sign_in_page(http, "sales", "wrong")).status_code == 401
    for _ in range(2):
        assert (await sign_in_api(http, "sales", "wrong")).status_code == 401
    assert (await sign_in_api(http, "sales", DEMO_PASSWORD)).status_code == 429
    assert (await sign_in_page(http, "sales", DEMO_PASSWORD)).status_code == 429


async def test_the_refusal_says_how_many_minutes_in_the_users_language(client):
    http = await client(
        headers={"Accept-Language": "zh-CN,zh;q=0.9"},
        sign_in_failures_per_user="5 per 15 minutes",
    )
    for _ in range(5):
        await sign_in_page(http, "sales", "wrong")
    page = await sign_in_page(http, "sales", DEMO_PASSWORD)
    assert page.status_code == 429
    assert "登录失败次数过多，请 15 分钟后再试。" in page.text
    assert 14 * 60 < int(page.headers["Retry-After"]) <= 15 * 60

    api = await sign_in_api(http, "sales", DEMO_PASSWORD)
    assert api.json() == {"detail": "登录失败次数过多，请 15 分钟后再试。"}


async def test_one_users_failures_do_not_lock_out_another(client):
    http = await client()
    for _ in range(6):
        await sign_in_page(http, "sales", "wrong")
    assert (await sign_in_page(http, "sales", DEMO_PASSWORD)).status_code == 429
    assert (await sign_in_page(http, "finance", DEMO_PASSWORD)).status_code == 303


async def test_a_successful_sign_in_forgets_the_users_earlier_failures(client):
    http = await client(sign_in_failures_per_address=f"50 per {WINDOW_SECONDS} seconds")
    for _ in range(4):
        assert (await sign_in_api(http, "sales", "wrong")).status_code == 401
    assert (await sign_in_api(http, "sales", DEMO_PASSWORD)).status_code == 200
    for _ in range(4):
        assert (await sign_in_api(http, "sales", "wrong")).status_code == 401
    assert (await sign_in_api(http, "sales", DEMO_PASSWORD)).status_code == 200


async def test_too_many_failures_from_one_address_refuse_every_name_from_it(client):
    http = await client()
    for n in range(8):  # a different name each time: no one name reaches its own limit
        assert (await sign_in_api(http, f"guess{n}", "wrong")).status_code == 401
    refused = await sign_in_api(http, "sales", DEMO_PASSWORD)
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers


async def test_successful_sign_ins_from_one_address_are_not_counted(client):
    """An office signs in from one address; so does the test suite."""
    http = await client(sign_in_failures_per_address=f"3 per {WINDOW_SECONDS} seconds")
    for _ in range(10):
        assert (await sign_in_api(http, "sales", DEMO_PASSWORD)).status_code == 200


# --- sign-out revokes -----------------------------------------------------------------------------


async def test_a_session_cookie_copied_before_sign_out_is_refused_after_it(client):
    http = await client()
    assert (await sign_in_page(http, "sales", DEMO_PASSWORD)).status_code == 303
    async with copy_of(http) as copied:
        assert (await copied.get("/")).status_code == 200

        assert (await sign_out(http)).status_code == 303
        response = await copied.get("/")
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")
        assert (await copied.get("/profile")).status_code == 303

    # signing in again works, with a new cookie
    assert (await sign_in_page(http, "sales", DEMO_PASSWORD)).status_code == 303
    assert (await http.get("/profile")).status_code == 200


async def test_signing_out_revokes_the_users_bearer_tokens_too(client):
    """Sign-out ends every session of the user: a token issued before it is refused; one
    issued after it works."""
    http = await client()
    before = (await sign_in_api(http, "sales", DEMO_PASSWORD)).json()["access_token"]
    assert (await http.get("/api/v1/me", headers={"Authorization": f"Bearer {before}"})).is_success

    await sign_in_page(http, "sales", DEMO_PASSWORD)
    await sign_out(http)

    refused = await http.get("/api/v1/me", headers={"Authorization": f"Bearer {before}"})
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == "Bearer"
    after = (await sign_in_api(http, "sales", DEMO_PASSWORD)).json()["access_token"]
    me = await http.get("/api/v1/me", headers={"Authorization": f"Bearer {after}"})
    assert me.status_code == 200 and me.json()["username"] == "sales"


async def test_a_new_password_signs_the_user_out_everywhere(client, session_factory):
    http = await client()
    token = (await sign_in_api(http, "sales", DEMO_PASSWORD)).json()["access_token"]
    await sign_in_page(http, "sales", DEMO_PASSWORD)
    async with session_factory() as session:
        await session.execute(
            update(User)
            .where(User.username == "sales")
            .values(password_hash=hash_password("a-new-password-1"))
        )
        await session.commit()

    assert (await http.get("/profile")).status_code == 303
    me = await http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401


async def test_signing_out_of_one_account_leaves_other_users_signed_in(client):
    sales, finance = await client(), await client()
    await sign_in_page(sales, "sales", DEMO_PASSWORD)
    await sign_in_page(finance, "finance", DEMO_PASSWORD)
    await sign_out(sales)
    assert (await finance.get("/profile")).status_code == 200


# --- the session cookie's Secure flag -----------------------------------------------------------


def session_cookie_of(response: httpx.Response) -> str:
    cookies = [c for c in response.headers.get_list("set-cookie") if c.startswith("o2c_session=")]
    assert cookies, response.headers
    return cookies[-1].lower()


async def test_the_session_cookie_is_secure_over_https(client):
    http = await client(base_url="https://testserver")
    response = await sign_in_page(http, "sales", DEMO_PASSWORD)
    assert response.status_code == 303
    assert "; secure" in session_cookie_of(response)
    assert "; httponly" in session_cookie_of(response)
    assert (await http.get("/profile")).status_code == 200


async def test_the_session_cookie_is_not_marked_secure_over_plain_http(client):
    http = await client()
    response = await sign_in_page(http, "sales", DEMO_PASSWORD)
    assert "; secure" not in session_cookie_of(response)


async def test_a_trusted_proxys_forwarded_https_makes_the_cookie_secure(client):
    http = await client(trusted_proxies="127.0.0.1", headers={"X-Forwarded-Proto": "https"})
    response = await sign_in_page(http, "sales", DEMO_PASSWORD)
    assert "; secure" in session_cookie_of(response)


async def test_forwarded_https_from_an_untrusted_address_is_ignored(client):
    http = await client(headers={"X-Forwarded-Proto": "https"})
    response = await sign_in_page(http, "sales", DEMO_PASSWORD)
    assert "; secure" not in session_cookie_of(response)


async def test_a_setting_makes_the_cookie_secure_always(client):
    http = await client(secure_cookies=True)
    response = await sign_in_page(http, "sales", DEMO_PASSWORD)
    assert "; secure" in session_cookie_of(response)


# --- security headers ---------------------------------------------------------------------------


def assert_security_headers(response: httpx.Response) -> None:
    policy = response.headers["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'self'",
        "object-src 'none'",
    ):
        assert directive in policy, (response.request.url, policy)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer")


async def test_pages_api_responses_and_errors_carry_the_security_headers(client):
    http = await client()
    await sign_in_page(http, "sales", DEMO_PASSWORD)
    token = (await sign_in_api(http, "sales", DEMO_PASSWORD)).json()["access_token"]
    responses = {
        "login page": await http.get("/login"),
        "inbox": await http.get("/"),
        "stylesheet": await http.get("/static/app.css"),
        "API": await http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}),
        "API 401": await http.get("/api/v1/me"),
        "API 404": await http.get(
            "/api/v1/orders/SO-1999-00001", headers={"Authorization": f"Bearer {token}"}
        ),
        "page 404": await http.get("/orders/SO-1999-00001"),
        "no such path": await http.get("/no/such/path"),
        "CSRF 403": await http.post("/profile", data={"locale": "en"}),
        "redirect": await http.get("/language/en?next=/"),
    }
    expected = {"login page": 200, "inbox": 200, "stylesheet": 200, "API": 200, "API 401": 401}
    expected |= {"API 404": 404, "page 404": 404, "no such path": 404, "CSRF 403": 403}
    expected |= {"redirect": 303}
    for name, response in responses.items():
        assert response.status_code == expected[name], (name, response.text)
        assert_security_headers(response)
        assert response.headers["Referrer-Policy"] == "same-origin", name
        assert "script-src 'self';" in response.headers["Content-Security-Policy"], name


async def test_a_decision_link_page_keeps_its_stricter_referrer_policy(client):
    http = await client()
    page = await http.get("/decide/abc")
    assert page.status_code == 404
    assert_security_headers(page)
    assert page.headers["Referrer-Policy"] == "no-referrer"


async def test_the_api_docs_page_may_load_what_it_needs_and_nothing_more(client):
    http = await client()
    docs = await http.get("/docs")
    assert docs.status_code == 200
    assert_security_headers(docs)
    policy = dict(
        (directive.split()[0], directive.split()[1:])
        for directive in docs.headers["Content-Security-Policy"].split("; ")
    )
    scripts = re.findall(r'<script src="([^"]+)"', docs.text)
    styles = re.findall(r'<link type="text/css" rel="stylesheet" href="([^"]+)"', docs.text)
    icons = re.findall(r'<link rel="shortcut icon" href="([^"]+)"', docs.text)
    assert scripts and styles and icons
    origin = re.compile(r"^(https://[^/]+)/")
    for urls, directive in ((scripts, "script-src"), (styles, "style-src"), (icons, "img-src")):
        for url in urls:
            assert origin.match(url).group(1) in policy[directive], (url, policy[directive])
    assert "'unsafe-inline'" in policy["script-src"]  # the page starts Swagger UI inline
    assert (await http.get("/openapi.json")).status_code == 200

    # the relaxed policy is for the docs only
    login = await http.get("/login")
    assert "cdn.jsdelivr.net" not in login.headers["Content-Security-Policy"]


async def test_a_deactivated_users_tokens_stay_refused_after_they_are_activated_again(
    client, session_factory
):
    http = await client()
    token = (await sign_in_api(http, "sales", DEMO_PASSWORD)).json()["access_token"]
    async with session_factory() as session:
        admin = await session.scalar(select(User).where(User.username == "admin"))
        sales = await session.scalar(select(User).where(User.username == "sales"))
        await set_user_active(session=session, actor=admin, user=sales, active=False)
        await set_user_active(session=session, actor=admin, user=sales, active=True)
    me = await http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401
    fresh = (await sign_in_api(http, "sales", DEMO_PASSWORD)).json()["access_token"]
    assert (await http.get("/api/v1/me", headers={"Authorization": f"Bearer {fresh}"})).is_success
