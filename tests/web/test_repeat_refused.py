"""Repeating a past order whose product is no longer sold is refused with the reason (422 on the
API, the message on the page), not a server error; no draft is created."""

from __future__ import annotations

from sqlalchemy import func, select, update

from models.tables import Order, Product
from tests.web.conftest import csrf_of
from tests.web.test_orders_api import PUMP, order_body


async def order_count(session_factory) -> int:
    async with session_factory() as session:
        return await session.scalar(select(func.count()).select_from(Order))


async def test_repeating_an_order_of_a_product_no_longer_sold_is_refused(
    api, browser_session, session_factory
):
    sales = await api("sales")
    number = (await sales.post("/api/v1/orders", json=order_body())).json()["number"]
    async with session_factory() as session:
        await session.execute(update(Product).where(Product.id == PUMP).values(active=False))
        await session.commit()
    before = await order_count(session_factory)
    response = await sales.post(f"/api/v1/orders/{number}/repeat")
    assert response.status_code == 422, response.text
    assert response.json()["detail"]
    page = await browser_session("sales")
    csrf = csrf_of((await page.get(f"/orders/{number}")).text)
    answer = await page.post(f"/orders/{number}/repeat", data={"csrf_token": csrf})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/orders/{number}"
    assert response.json()["detail"] in (await page.get(answer.headers["location"])).text
    assert await order_count(session_factory) == before
