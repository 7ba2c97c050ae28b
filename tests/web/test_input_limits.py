"""Limits on what a request may carry: at most 500 lines an order (its workflow carries them all
in payloads Temporal caps at 2 MB), a body of at most 1 MiB refused before it is read, dates
in a sensible window, and a search text whose % and _ match only themselves."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from models.dates import years_from
from models.tables import Customer, Order, OrderLine
from settings import get_settings
from tests.web.conftest import csrf_of
from tests.web.test_i18n import chinese_session, zh_catalog_compiled  # noqa: F401 - a fixture
from tests.web.test_orders_api import PUMP, VALVE, order_body
from tests.web.test_pages import order_form

MiB = 1024 * 1024
TODAY = datetime.now(UTC).date()


def lines(count: int) -> list[dict[str, str | int]]:
    return [{"product_id": PUMP if n % 2 else VALVE, "quantity": "1"} for n in range(count)]


async def order_count(session_factory) -> int:
    async with session_factory() as session:
        return await session.scalar(select(func.count()).select_from(Order)) or 0


async def line_count(session_factory, number: str) -> int:
    async with session_factory() as session:
        return (
            await session.scalar(
                select(func.count())
                .select_from(OrderLine)
                .join(Order, Order.id == OrderLine.order_id)
                .where(Order.number == number)
            )
            or 0
        )


# -- lines ----------------------------------------------------------------------------------


async def test_an_order_of_501_lines_is_refused_and_nothing_is_created(api, session_factory):
    before = await order_count(session_factory)
    response = await (await api("sales")).post("/api/v1/orders", json=order_body(lines=lines(501)))
    assert response.status_code == 422, response.text
    assert response.json() == {"detail": "An order can have at most 500 lines."}
    assert await order_count(session_factory) == before


async def test_an_order_of_500_lines_is_created_with_all_of_them(api, session_factory):
    response = await (await api("sales")).post("/api/v1/orders", json=order_body(lines=lines(500)))
    assert response.status_code == 201, response.text
    assert await line_count(session_factory, response.json()["number"]) == 500


async def test_a_draft_edited_to_501_lines_is_refused_and_keeps_its_lines(api, session_factory):
    sales = await api("sales")
    number = (await sales.post("/api/v1/orders", json=order_body())).json()["number"]
    response = await sales.patch(f"/api/v1/orders/{number}", json=order_body(lines=lines(501)))
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == "An order can have at most 500 lines."
    assert await line_count(session_factory, number) == 2


async def test_the_order_form_refuses_more_lines_than_the_setting_allows(
    browser_session, session_factory, monkeypatch
):
    # The form parser takes 1000 fields, about 245 lines: the limit is lowered to show the form
    # path without running into that first.
    monkeypatch.setattr(get_settings(), "max_order_lines", 2)
    sales = await browser_session("sales")
    csrf = csrf_of((await sales.get("/orders/new")).text)
    third = {"lines-2-product_id": "3", "lines-2-quantity": "1"}
    before = await order_count(session_factory)
    response = await sales.post("/orders/new", data=order_form(csrf, **third))
    assert response.status_code == 422, response.text
    assert "An order can have at most 2 lines." in response.text
    assert await order_count(session_factory) == before

    response = await sales.post("/orders/new", data=order_form(csrf))
    assert response.status_code == 303, response.text


@pytest.mark.usefixtures("zh_catalog_compiled")
async def test_too_many_lines_is_said_in_chinese_to_a_chinese_user(browser_session, monkeypatch):
    monkeypatch.setattr(get_settings(), "max_order_lines", 1)
    sales = await chinese_session(browser_session, "sales")
    csrf = csrf_of((await sales.get("/orders/new")).text)
    response = await sales.post("/orders/new", data=order_form(csrf))
    assert response.status_code == 422
    assert "一个销售订单最多只能有 1 行明细。" in response.text


# -- the size of a request ------------------------------------------------------------------


async def test_a_body_of_2_mib_is_refused_with_413_and_nothing_is_created(api, session_factory):
    sales = await api("sales")
    body = order_body(note="x" * (2 * MiB))
    before = await order_count(session_factory)
    response = await sales.post("/api/v1/orders", json=body)
    assert response.status_code == 413
    assert response.json() == {
        "detail": "The request is too large: this service accepts at most 1 MiB."
    }
    assert await order_count(session_factory) == before


async def chunks(sent: list[int], size: int, count: int) -> AsyncIterator[bytes]:
    """A body without a Content-Length (sent chunked), recording how much of it was taken."""
    yield b'{"customer_id": 1, "note": "'
    for _ in range(count):
        sent.append(size)
        yield b"x" * size
    yield b'", "lines": [{"product_id": 3, "quantity": "1"}]}'


async def test_a_chunked_body_over_the_limit_is_refused_without_reading_it_all(
    api, session_factory
):
    sales = await api("sales")
    sent: list[int] = []
    before = await order_count(session_factory)
    response = await sales.post(
        "/api/v1/orders",
        content=chunks(sent, 64 * 1024, 64),  # 4 MiB
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["detail"] == (
        "The request is too large: this service accepts at most 1 MiB."
    )
    assert sum(sent) <= MiB + 64 * 1024  # stopped at the chunk that passed the limit
    assert await order_count(session_factory) == before


async def test_a_chunked_body_within_the_limit_is_taken(api):
    sales = await api("sales")
    body = json.dumps(order_body()).encode()

    async def small() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 16):
            yield body[start : start + 16]

    response = await sales.post(
        "/api/v1/orders", content=small(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 201, response.text


async def test_an_oversized_form_gets_a_page_not_json(browser_session, session_factory):
    sales = await browser_session("sales")
    csrf = csrf_of((await sales.get("/orders/new")).text)
    before = await order_count(session_factory)
    response = await sales.post("/orders/new", data=order_form(csrf, note="x" * (2 * MiB)))
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "this service accepts at most 1 MiB" in response.text
    assert await order_count(session_factory) == before


async def test_an_oversized_chunked_form_gets_the_error_page(browser_session, session_factory):
    sales = await browser_session("sales")
    csrf = csrf_of((await sales.get("/orders/new")).text)

    async def form() -> AsyncIterator[bytes]:
        yield f"csrf_token={csrf}&customer_id=1&note=".encode()
        for _ in range(40):
            yield b"x" * (64 * 1024)

    before = await order_count(session_factory)
    response = await sales.post(
        "/orders/new",
        content=form(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert "this service accepts at most 1 MiB" in response.text
    assert await order_count(session_factory) == before


@pytest.mark.usefixtures("zh_catalog_compiled")
async def test_an_oversized_form_is_refused_in_the_browsers_language(http):
    response = await http.post(
        "/login",
        content=b"x" * (MiB + 1),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept-Language": "zh-CN,zh;q=0.9",
        },
    )
    assert response.status_code == 413
    assert "请求过大：本服务最多接受 1 MiB。" in response.text


# -- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", (TODAY - timedelta(days=1))])
async def test_a_requested_delivery_date_out_of_its_window_is_refused(
    api, session_factory, day: str | date
):
    before = await order_count(session_factory)
    response = await (await api("sales")).post(
        "/api/v1/orders", json=order_body(requested_delivery_date=str(day))
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith(f"The requested delivery date {day} is not ")
    assert await order_count(session_factory) == before


async def test_a_draft_whose_delivery_date_has_passed_is_not_submitted(api, session_factory):
    """Saved while its date was ahead, sent after that day: refused, the order stays a draft
    (it was submitted without a word)."""
    sales = await api("sales")
    number = (await sales.post("/api/v1/orders", json=order_body())).json()["number"]
    yesterday = TODAY - timedelta(days=1)
    async with session_factory() as session:
        order = await session.scalar(select(Order).where(Order.number == number))
        order.requested_delivery_on = yesterday
        await session.commit()
    response = await sales.post(f"/api/v1/orders/{number}/submit")
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith(
        f"The requested delivery date {yesterday} is not between {TODAY} and"
    )
    assert (await sales.get(f"/api/v1/orders/{number}")).json()["stage"] == "draft"


async def test_a_requested_delivery_date_today_or_5_years_ahead_is_taken(api):
    sales = await api("sales")
    for day in (TODAY, years_from(TODAY, 5)):
        response = await sales.post(
            "/api/v1/orders", json=order_body(requested_delivery_date=day.isoformat())
        )
        assert response.status_code == 201, response.text


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
async def test_a_fixed_payment_date_out_of_its_window_is_refused(api, session_factory, day):
    plan = [
        {"percent": "30", "trigger": "confirmation"},
        {"percent": "70", "trigger": "fixed_date", "fixed_date": day},
    ]
    sales = await api("sales")
    number = (await sales.post("/api/v1/orders", json=order_body())).json()["number"]
    before = await order_count(session_factory)
    created = await sales.post("/api/v1/orders", json=order_body(payment_plan=plan))
    assert created.status_code == 422, created.text
    assert created.json()["detail"].startswith(f"Installment 2: the fixed date {day} is not ")
    assert await order_count(session_factory) == before

    edited = await sales.patch(f"/api/v1/orders/{number}", json=order_body(payment_plan=plan))
    assert edited.status_code == 422, edited.text
    assert "Installment 2: the fixed date" in edited.json()["detail"]


async def test_the_order_form_refuses_a_delivery_date_in_year_9999(browser_session):
    sales = await browser_session("sales")
    csrf = csrf_of((await sales.get("/orders/new")).text)
    response = await sales.post(
        "/orders/new", data=order_form(csrf, requested_delivery_date="9999-12-31")
    )
    assert response.status_code == 422
    assert "The requested delivery date 9999-12-31 is not between" in response.text


# -- searching for % and _ -----------------------------------------------------------------


async def test_percent_and_underscore_in_the_search_match_only_themselves(api, session_factory):
    async with session_factory() as session:
        odd = Customer(name="100% Pure_Water Co.")
        session.add(odd)
        await session.commit()
        odd_id = odd.id
    sales = await api("sales")
    plain = (await sales.post("/api/v1/orders", json=order_body())).json()["number"]
    created = await sales.post("/api/v1/orders", json=order_body(customer_id=odd_id))
    assert created.status_code == 201, created.text
    special = created.json()["number"]

    for q in ("%", "_", "0% P", "Pure_W"):
        found = (await sales.get("/api/v1/orders", params={"q": q})).json()
        assert [o["number"] for o in found["items"]] == [special], q
    for q in ("1_0", "100%%", "Pure%Water", "\\"):
        found = (await sales.get("/api/v1/orders", params={"q": q})).json()
        assert found["items"] == [], q
    found = (await sales.get("/api/v1/orders", params={"q": "SO-"})).json()
    assert {special, plain} <= {o["number"] for o in found["items"]}

    assert (await sales.get("/api/v1/orders", params={"q": "%"})).json()["total"] == 1


async def test_the_order_form_takes_500_lines_and_refuses_the_501st(
    browser_session, session_factory
):
    sales = await browser_session("sales")
    csrf = csrf_of((await sales.get("/orders/new")).text)

    def form_of(count: int) -> dict[str, str]:
        rows = {}
        for n in range(count):
            rows |= {
                f"lines-{n}-product_id": "3",
                f"lines-{n}-quantity": "1",
                f"lines-{n}-unit_price": "",
                f"lines-{n}-discount_percent": "",
            }
        return order_form(csrf, **rows)

    before = await order_count(session_factory)
    response = await sales.post("/orders/new", data=form_of(501))
    assert response.status_code == 422, response.text[:300]
    assert "An order can have at most 500 lines." in response.text
    assert await order_count(session_factory) == before
    response = await sales.post("/orders/new", data=form_of(500))
    assert response.status_code == 303, response.text[:300]
    assert await order_count(session_factory) == before + 1
