"""The collection policy, versioned: read by those who work with it (test_policy_access.py),
changed only by an administrator. Each save is a new version; a refusal names the field and saves
nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from models.tables import CollectionPolicyVersion

URL = "/api/v1/policy/collection"


def policy(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "reminder_days_before": 5,
        "manager_after_days": 10,
        "director_after_days": 20,
        "hold_dispatch_for_deposit": True,
        "plans": [
            {
                "name": "40/60",
                "items": [
                    {"percent": "40", "trigger": "confirmation"},
                    {"percent": "60", "trigger": "acceptance", "offset_days": 15},
                ],
            }
        ],
    }
    body.update(overrides)
    return body


async def versions(session_factory) -> int:
    async with session_factory() as session:
        return await session.scalar(select(func.count()).select_from(CollectionPolicyVersion))


async def test_the_shipped_policy_reminds_3_days_ahead_and_offers_30_60_10(api):
    shipped = (await (await api("sales")).get(URL)).json()
    assert (shipped["version"], shipped["reminder_days_before"]) == (1, 3)
    assert (shipped["manager_after_days"], shipped["director_after_days"]) == (15, 30)
    assert "30/60/10" in [plan["name"] for plan in shipped["plans"]]


async def test_an_administrator_saves_a_new_version_that_orders_then_use(api):
    admin, sales = await api("admin"), await api("sales")
    saved = await admin.put(URL, json=policy())
    assert saved.status_code == 200, saved.text
    assert (saved.json()["version"], saved.json()["reminder_days_before"]) == (2, 5)
    assert (await sales.get(URL)).json()["plans"][0]["name"] == "40/60"
    order = {
        "customer_id": 1,
        "lines": [{"product_id": 3, "quantity": "1"}],
        "payment_plan_name": "40/60",
    }
    created = await sales.post("/api/v1/orders", json=order)
    assert created.status_code == 201, created.text
    detail = (await sales.get(f"/api/v1/orders/{created.json()['number']}")).json()
    assert [i["amount"] for i in detail["installments"]] == ["3400.00", "5100.00"]


@pytest.mark.parametrize(
    "change, field, words",
    [
        (
            {"director_after_days": 10},
            "director_after_days",
            "Days overdue before the director is alerted: the director is alerted after",
        ),
        (
            {"manager_after_days": 0},
            "manager_after_days",
            "The days overdue before the sales manager is alerted must be at least 1.",
        ),
        (
            {"reminder_days_before": -1},
            "reminder_days_before",
            "The days before a due date for the reminder cannot be negative.",
        ),
        (
            {"plans": [{"name": "half", "items": [{"percent": "50", "trigger": "dispatch"}]}]},
            "plans[0].items",
            "Plan 1, installments: the payment plan's percentages must add up to exactly 100.",
        ),
        ({"plans": [{"name": "none", "items": []}]}, "plans[0].items", "at least one installment"),
        (
            {
                "plans": [
                    {"name": "all", "items": [{"percent": "100", "trigger": "dispatch"}]},
                    {"name": "ALL", "items": [{"percent": "100", "trigger": "acceptance"}]},
                ]
            },
            "plans[1].name",
            "Plan 2, plan's name: two plans have the same name.",
        ),
    ],
)
async def test_a_bad_policy_is_refused_with_the_field_and_nothing_is_saved(
    api, session_factory, change, field, words
):
    """The sentence names the field as people call it (and the plan it is in); the error's
    `field` says where it is in the body."""
    before = await versions(session_factory)
    response = await (await api("admin")).put(URL, json=policy(**change))
    assert response.status_code == 422, response.text
    assert words in response.json()["detail"]
    assert response.json()["field"] == field
    assert await versions(session_factory) == before


@pytest.mark.parametrize("username", ["sales", "finance", "director"])
async def test_only_an_administrator_changes_the_collection_policy(api, session_factory, username):
    before = await versions(session_factory)
    response = await (await api(username)).put(URL, json=policy())
    assert response.status_code == 403
    assert "administrator" in response.json()["detail"]
    assert await versions(session_factory) == before
