"""Integers beyond what the database holds (2^63 and up) are bad input: 422, never a 500."""

from __future__ import annotations

import pytest

from tests.web.test_orders_api import PUMP, order_body

BIG = 2**63  # one more than the largest signed 64-bit integer SQLite and PostgreSQL keep


def refused_as_bad_input(response) -> None:
    assert response.status_code == 422, response.text
    assert isinstance(response.json()["detail"], str)


@pytest.mark.parametrize(
    "query",
    [
        f"/api/v1/orders?customer_id={BIG}",
        f"/api/v1/orders?owner_id={BIG}",
        f"/api/v1/orders?page={BIG}",
        f"/api/v1/orders?customer_id={-BIG}",
        f"/api/v1/receivables?customer_id={BIG}",
        f"/api/v1/receivables?owner_id={BIG}",
        f"/api/v1/receivables?page={BIG}",
        f"/api/v1/receivables/aging?customer_id={BIG}",
        f"/api/v1/receivables/aging?owner_id={BIG}",
        f"/api/v1/reports/cost-variance?customer_id={BIG}",
        f"/api/v1/reports/cost-variance?owner_id={BIG}",
        f"/api/v1/reports/cost-variance?department_id={BIG}",
        f"/api/v1/reports/cost-variance?page={BIG}",
    ],
)
async def test_an_id_or_page_too_big_for_the_database_is_refused_as_bad_input(api, query):
    refused_as_bad_input(await (await api("director")).get(query))


@pytest.mark.parametrize(
    "change",
    [
        {"customer_id": BIG},
        {"customer_id": 2**64},
        {"lines": [{"product_id": BIG, "quantity": "1"}]},
        {"lines": [{"product_id": PUMP, "quantity": "1"}, {"product_id": BIG, "quantity": "2"}]},
    ],
)
async def test_an_order_naming_an_id_too_big_for_the_database_is_refused_as_bad_input(api, change):
    sales = await api("sales")
    refused_as_bad_input(await sales.post("/api/v1/orders", json=order_body(**change)))
    number = (await sales.post("/api/v1/orders", json=order_body())).json()["number"]
    refused_as_bad_input(await sales.patch(f"/api/v1/orders/{number}", json=order_body(**change)))
    assert (await sales.get(f"/api/v1/orders/{number}")).json()["total"] == "28400.00"


async def test_a_todo_id_too_big_for_the_database_is_refused_as_bad_input(api):
    pricing = await api("pricing")
    refused_as_bad_input(
        await pricing.post(f"/api/v1/todos/{BIG}/complete", json={"outcome": "estimated"})
    )
