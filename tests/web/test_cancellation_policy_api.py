"""The approval policy's amount above which a confirmed order's cancellation also needs the
director: set and read through the API and the admin page (in English and Chinese), a negative
or unreadable amount refused next to its field saving nothing, and a cancellation above it that
reaches the director's inbox once the manager approves."""

from __future__ import annotations

import asyncio
import html
import re
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from models.tables import ApprovalPolicyVersion
from tests.web.conftest import csrf_of
from tests.web.test_collection_api import collecting_order, complete
from tests.web.test_i18n import (  # the fixture needs_catalog names
    choose_language,
    needs_catalog,
    zh_catalog_compiled,  # noqa: F401
)
from tests.web.test_orders_api import todo_of
from tests.web.test_policy import two_stage_policy

URL = "/api/v1/policy/approval"
NEGATIVE = (
    "The amount above which the director also approves a cancellation cannot be negative "
    "(leave it blank if the director need never approve one)."
)
NEGATIVE_ZH = "取消订单需总监审批的金额不能为负数（如总监无需审批取消，请留空）。"


async def version_count(session_factory) -> int:
    async with session_factory() as session:
        return await session.scalar(select(func.count()).select_from(ApprovalPolicyVersion)) or 0


def text_of(response: httpx.Response) -> str:
    words = re.sub(r"<[^>]+>", " ", response.text)
    return re.sub(r"\s+", " ", html.unescape(words))


def next_to_the_field(response: httpx.Response) -> str:
    """The message shown right under the amount's field."""
    found = re.search(r'id="cancellation-amount-error"[^>]*>([^<]*)<', response.text)
    assert found, "no message next to the field"
    return html.unescape(found[1])


# -- the API -----------------------------------------------------------------------------------


async def test_an_administrator_sets_the_amount_and_approvers_read_it_as_a_decimal_string(api):
    admin = await api("admin")
    saved = await admin.put(URL, json=two_stage_policy(cancellation_director_above="100000.50"))
    assert saved.status_code == 200, saved.text
    assert saved.json()["cancellation_director_above"] == "100000.50"
    for reader in ("director", "sales_manager"):
        in_force = (await (await api(reader)).get(URL)).json()
        assert in_force["cancellation_director_above"] == "100000.50"
    cleared = await admin.put(URL, json=two_stage_policy(cancellation_director_above=None))
    assert cleared.json()["cancellation_director_above"] is None


async def test_without_the_setting_a_policy_never_asks_the_director_to_approve_cancellations(api):
    saved = await (await api("admin")).put(URL, json=two_stage_policy())
    assert saved.json()["cancellation_director_above"] is None


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("-0.01", NEGATIVE),
        (
            "1.005",
            "The amount above which the director also approves a cancellation may have at most 2 "
            "decimal places.",
        ),
        (
            "lots",
            "The amount above which the director also approves a cancellation must be a number.",
        ),
    ],
)
async def test_a_negative_or_unreadable_amount_is_refused_with_422_and_saves_nothing(
    api, session_factory, amount, message
):
    before = await version_count(session_factory)
    refused = await (await api("admin")).put(
        URL, json=two_stage_policy(cancellation_director_above=amount)
    )
    assert refused.status_code == 422
    # the sentence names the field as people call it; `field` says where it is in the body
    assert refused.json() == {"detail": message, "field": "cancellation_director_above"}
    assert await version_count(session_factory) == before


@needs_catalog
async def test_an_unreadable_amount_is_refused_in_the_callers_language(api, session_factory):
    before = await version_count(session_factory)
    refused = await (await api("admin")).put(
        URL,
        json=two_stage_policy(cancellation_director_above="lots"),
        headers={"Accept-Language": "zh-CN"},
    )
    assert refused.status_code == 422
    assert refused.json() == {
        "detail": "取消订单需总监审批的金额必须是数字。",
        "field": "cancellation_director_above",
    }
    assert await version_count(session_factory) == before


@pytest.mark.parametrize("username", ["director", "sales_manager", "finance"])
async def test_only_an_administrator_sets_the_cancellation_amount(api, session_factory, username):
    before = await version_count(session_factory)
    refused = await (await api(username)).put(
        URL, json=two_stage_policy(cancellation_director_above="1000")
    )
    assert refused.status_code == 403
    assert await version_count(session_factory) == before


# -- the admin page ----------------------------------------------------------------------------


async def post_form(client: httpx.AsyncClient, amount: str) -> httpx.Response:
    page = await client.get("/admin/policy")
    based_on = re.search(r'name="based_on" value="(\d+)"', page.text)
    assert based_on
    data: dict[str, Any] = {
        "csrf_token": csrf_of(page.text),
        "based_on": based_on[1],
        "rows-0-stage": "1",
        "rows-0-code": "sales_manager",
        "rows-0-decider": "department_manager",
        "rows-0-sla_days": "1",
        "cancellation_director_above": amount,
    }
    return await client.post("/admin/policy", data=data)


async def test_the_admin_page_saves_the_amount_and_says_it_in_words(browser_session, api):
    admin = await browser_session("admin")
    page = await admin.get("/admin/policy")
    assert 'name="cancellation_director_above"' in page.text
    assert "the manager's approval is enough" in text_of(page)

    saved = await post_form(admin, "250,000")
    assert saved.status_code == 303, saved.text
    page = await admin.get("/admin/policy")
    assert 'name="cancellation_director_above" class="num" style="width:10rem" value="250000"' in (
        page.text
    )
    assert "then by the director when the order's total is above CN¥250,000.00" in text_of(page)
    in_force = (await (await api("admin")).get(URL)).json()
    assert in_force["cancellation_director_above"] == "250000.00"


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("-5", f"Cancellations: {NEGATIVE}"),
        ("lots", "Cancellations: Enter an amount (at most two decimals), or leave it blank."),
        ("1.234", "Cancellations: Enter an amount (at most two decimals), or leave it blank."),
    ],
)
async def test_a_bad_amount_on_the_page_is_refused_next_to_its_field_and_kept_to_correct(
    browser_session, session_factory, amount, message
):
    admin = await browser_session("admin")
    before = await version_count(session_factory)
    refused = await post_form(admin, amount)
    assert refused.status_code == 422
    assert next_to_the_field(refused) == message
    assert 'aria-invalid="true" aria-describedby="cancellation-amount-error"' in refused.text
    assert f'value="{amount}"' in refused.text
    assert await version_count(session_factory) == before


@needs_catalog
async def test_the_refusal_next_to_the_field_is_in_chinese_for_a_chinese_administrator(
    browser_session, session_factory
):
    admin = await browser_session("admin")
    await choose_language(admin, "zh_CN")
    page = await admin.get("/admin/policy")
    assert "订单总额高于此金额的取消还需总监审批" in text_of(page)
    refused = await post_form(admin, "-1")
    assert refused.status_code == 422
    assert next_to_the_field(refused) == f"取消订单: {NEGATIVE_ZH}"


# -- a cancellation above the amount -----------------------------------------------------------


async def stage_of(client, number: str, stage: str) -> dict:
    for _ in range(200):
        order = (await client.get(f"/api/v1/orders/{number}")).json()
        if order["stage"] == stage:
            return order
        await asyncio.sleep(0.05)
    raise AssertionError(f"{number} never reached {stage}: {order['stage']}")


async def open_kinds(client, number: str) -> list[str]:
    todos = (await client.get("/api/v1/todos")).json()
    return [t["kind"] for t in todos if t["order_number"] == number]


@pytest.mark.own_test_server
async def test_a_cancellation_above_the_amount_reaches_the_directors_inbox_after_the_manager(
    api, browser_session, worker
):
    saved = await (await api("admin")).put(
        URL, json=two_stage_policy(cancellation_director_above="1000")
    )
    assert saved.status_code == 200, saved.text
    number = await collecting_order(api)  # 28,400.00: above the amount
    sales, manager, director = await api("sales"), await api("sales_manager"), await api("director")
    asked = await sales.post(
        f"/api/v1/orders/{number}/cancel",
        json={"reason_code": "customer_request", "reason": "The project was stopped"},
    )
    assert asked.status_code == 202, asked.text
    assert "approve_cancellation" not in await open_kinds(director, number)

    first = await todo_of(manager, number, "approve_cancellation")
    await complete(manager, first, {"outcome": "approve"})

    second = await todo_of(director, number, "approve_cancellation")
    assert second["id"] != first["id"]
    assert (await stage_of(sales, number, "fulfilment"))["cancellation"]["status"] == "requested"
    inbox = await (await browser_session("director")).get("/")
    assert f"/todos/{second['id']}" in inbox.text
    todo_page = await (await browser_session("director")).get(f"/todos/{second['id']}")
    assert "Approved by the manager" in text_of(todo_page)
    assert "Li Na" in text_of(todo_page)
    own = await sales.post(f"/api/v1/todos/{second['id']}/complete", json={"outcome": "approve"})
    assert own.status_code in (403, 404)

    await complete(director, second, {"outcome": "approve"})

    order = await stage_of(sales, number, "cancelled")
    assert order["cancellation"]["decided_by"]["username"] == "director"
    kinds = [e["kind"] for e in order["timeline"]]
    assert kinds.index("cancellation_approved_by_manager") < kinds.index("cancellation_approved")
