"""The read side of the approval chain: an order's rounds by stage, the facts beside an approve
to-do in the inbox (margin only for cost viewers), and the admin's list of unroutable orders."""

from __future__ import annotations

import asyncio
import html
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select

from models.tables import ApprovalRound, ApprovalStep, Department, Order, Todo, TodoAssignee
from tests import helpers
from tests.web.conftest import csrf_of
from tests.web.test_orders_api import submitted_order, todo_of
from tests.web.test_todos_api import estimated, stage_of

NOW = datetime.now(UTC).replace(microsecond=0)
FACTS = {
    "total": "612000.00",
    "max_discount_percent": "22.50",
    "expected_margin": "61200.00",
    "expected_margin_percent": "10.00",
    "exposure": "2400000.00",
    "credit_limit": "2000000.00",
    "short_lines": ["PUMP-10: 150 ordered, 120 available"],
}
MARGIN_KEYS = {"expected_margin", "expected_margin_percent"}


def text_of(response: httpx.Response) -> str:
    return html.unescape(response.text)


async def user_id(session_factory, username: str) -> int:
    return (await helpers.user(session_factory, username)).id


async def in_approval(session_factory, *, owner: str = "sales") -> Order:
    """A submitted order in approval, written straight into the read model (no workflow)."""
    order = await helpers.draft(session_factory, owner)
    async with session_factory() as session:
        row = await session.get(Order, order.id)
        row.stage = "approval"
        row.submitted_at = NOW - timedelta(days=3)
        await session.commit()
    return order


async def approve_todo(
    session_factory,
    order: Order,
    key: str,
    *,
    facts: dict | None = FACTS,
    user: str | None = None,
    role: str | None = None,
    created_at: datetime = NOW,
    due_at: datetime | None = None,
    status: str = "open",
) -> int:
    async with session_factory() as session:
        todo = Todo(
            key=f"order-{order.number}/{key}",
            order_id=order.id,
            workflow_id=f"order-{order.number}",
            kind="approve",
            status=status,
            requested_by_id=order.owner_id,
            created_at=created_at,
            due_at=due_at or created_at + timedelta(days=1),
            facts=facts,
        )
        todo.assignees.append(
            TodoAssignee(
                user_id=await user_id(session_factory, user) if user else None,
                role=role,
                status=status,
                created_at=created_at,
            )
        )
        session.add(todo)
        await session.commit()
        return todo.id


async def two_stage_round(session_factory, order: Order) -> dict[str, int]:
    """Round 1 of policy version 3: stage 1 approved by the manager, stage 2 with the director
    past due (reminded, escalated) and finance still within its time."""
    manager = await user_id(session_factory, "sales_manager")
    opened = NOW - timedelta(days=3)
    todos = {
        "manager": await approve_todo(
            session_factory, order, "1/sales_manager", user="sales_manager", status="done"
        ),
        "director": await approve_todo(
            session_factory,
            order,
            "2/director",
            role="director",
            created_at=NOW - timedelta(days=2),
            due_at=NOW - timedelta(days=1),
        ),
        "finance": await approve_todo(
            session_factory, order, "2/finance", role="finance", due_at=NOW + timedelta(days=1)
        ),
    }
    async with session_factory() as session:
        approval_round = ApprovalRound(
            order_id=order.id, number=1, policy_version=3, status="running", started_at=opened
        )
        session.add(approval_round)
        await session.flush()
        session.add_all(
            [
                ApprovalStep(
                    round_id=approval_round.id,
                    stage=1,
                    code="sales_manager",
                    todo_id=todos["manager"],
                    assignee_label="Wang Fang (Sales manager)",
                    reason="always",
                    decision="approve",
                    decided_by_id=manager,
                    decided_at=NOW - timedelta(days=2),
                    comment="Fine by me",
                    opened_at=opened,
                ),
                ApprovalStep(
                    round_id=approval_round.id,
                    stage=2,
                    code="director",
                    todo_id=todos["director"],
                    assignee_label="director",
                    reason="order total >= 500,000.00",
                    opened_at=NOW - timedelta(days=2),
                    reminded_at=NOW - timedelta(days=1),
                    escalated_at=NOW - timedelta(hours=2),
                    escalated_to="Zhao Lei (Director's manager)",
                ),
                ApprovalStep(
                    round_id=approval_round.id,
                    stage=2,
                    code="finance",
                    todo_id=todos["finance"],
                    assignee_label="finance",
                    reason="customer exposure 2,400,000.00 over credit limit 2,000,000.00",
                    opened_at=NOW,
                ),
            ]
        )
        await session.commit()
    return todos


def parsed(value: str | None) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# The order's approval progress -----------------------------------------------------------------


async def test_order_shows_each_round_by_stage_with_reasons_and_who_is_pending(
    api, session_factory
):
    order = await in_approval(session_factory)
    await two_stage_round(session_factory, order)

    body = (await (await api("sales")).get(f"/api/v1/orders/{order.number}")).json()
    [approval] = body["approvals"]
    assert (approval["round"], approval["status"], approval["policy_version"]) == (
        1,
        "running",
        3,
    )
    assert approval["ended_at"] is None
    assert [s["stage"] for s in approval["stages"]] == [1, 2]
    [manager] = approval["stages"][0]["steps"]
    assert manager["requirement"] == "sales_manager"
    assert manager["reason"] == "always"
    assert manager["decision"] == "approve"
    assert manager["decided_by"]["username"] == "sales_manager"
    assert manager["comment"] == "Fine by me"
    assert manager["pending_since"] is None  # decided, so not pending
    director, finance = approval["stages"][1]["steps"]
    assert director["requirement"] == "director"
    assert director["reason"] == "order total >= 500,000.00"
    assert director["decision"] is None
    assert parsed(director["pending_since"]) == NOW - timedelta(days=2)
    assert director["overdue"] is True
    assert parsed(director["reminded_at"]) == NOW - timedelta(days=1)
    assert parsed(director["escalated_at"]) == NOW - timedelta(hours=2)
    assert director["escalated_to"] == "Zhao Lei (Director's manager)"
    assert finance["overdue"] is False and finance["pending_since"] is not None
    assert finance["reason"].startswith("customer exposure")
    # the flat list stays, for clients that read it
    assert [s["requirement"] for s in approval["steps"]] == ["sales_manager", "director", "finance"]


async def test_a_rejected_rounds_undecided_steps_are_not_pending(api, session_factory):
    order = await in_approval(session_factory)
    await two_stage_round(session_factory, order)
    async with session_factory() as session:
        approval_round = await session.scalar(
            select(ApprovalRound).where(ApprovalRound.order_id == order.id)
        )
        approval_round.status = "rejected"
        approval_round.ended_at = NOW
        await session.commit()
    body = (await (await api("sales")).get(f"/api/v1/orders/{order.number}")).json()
    steps = body["approvals"][0]["steps"]
    assert [s["pending_since"] for s in steps] == [None, None, None]
    assert not any(s["overdue"] for s in steps)


async def test_order_page_shows_stages_pending_since_past_due_and_policy_version(
    browser_session, session_factory
):
    order = await in_approval(session_factory)
    await two_stage_round(session_factory, order)
    page = await (await browser_session("sales")).get(f"/orders/{order.number}")
    assert page.status_code == 200
    text = text_of(page)
    assert "Policy version 3" in text
    assert 'data-stage="1"' in text and 'data-stage="2"' in text
    assert "order total >= 500,000.00" in text
    assert "Fine by me" in text
    assert 'class="late">pending since' in text  # the director's step is past due
    assert "past due" in text
    assert "escalated to Zhao Lei (Director's manager)" in text
    assert "reminded " in text


# The facts in the inbox --------------------------------------------------------------------


async def test_inbox_gives_an_approver_the_facts_that_decide_it(
    api, browser_session, session_factory
):
    order = await in_approval(session_factory)
    todo_id = await approve_todo(session_factory, order, "1/director", role="director")

    [todo] = (await (await api("director")).get("/api/v1/todos")).json()
    assert todo["id"] == todo_id
    assert todo["facts"] == {**FACTS, "over_credit_limit": True}

    page = text_of(await (await browser_session("director")).get("/"))
    assert "discount up to 22.5 %" in page
    assert "margin CN¥61,200.00 (10 %)" in page
    assert "exposure CN¥2,400,000.00 of CN¥2,000,000.00 credit · over the limit" in page
    assert "short of stock: PUMP-10: 150 ordered, 120 available" in page

    detail = text_of(await (await browser_session("director")).get(f"/todos/{todo_id}"))
    assert "What decides it" in detail
    assert "CN¥612,000.00" in detail and "CN¥61,200.00" in detail
    assert "over the limit" in detail


async def test_margin_is_left_out_for_a_role_that_may_not_see_costs(
    api, browser_session, session_factory
):
    order = await in_approval(session_factory)
    todo_id = await approve_todo(session_factory, order, "1/warehouse", role="warehouse")

    [todo] = (await (await api("warehouse")).get("/api/v1/todos")).json()
    assert todo["id"] == todo_id
    assert MARGIN_KEYS.isdisjoint(todo["facts"])
    assert todo["facts"]["short_lines"] == FACTS["short_lines"]
    assert todo["facts"]["exposure"] == "2400000.00"

    page = text_of(await (await browser_session("warehouse")).get("/"))
    assert "short of stock: PUMP-10" in page
    assert "61,200" not in page and "margin" not in page
    detail = text_of(await (await browser_session("warehouse")).get(f"/todos/{todo_id}"))
    assert "What decides it" in detail and "61,200" not in detail

    # The order's open to-dos carry the facts too: the same cut for a sales rep.
    body = (await (await api("sales")).get(f"/api/v1/orders/{order.number}")).json()
    [open_todo] = body["open_todos"]
    assert MARGIN_KEYS.isdisjoint(open_todo["facts"])
    assert {"unit_cost", "standard_cost"}.isdisjoint(body["lines"][0])  # nor the lines' costs
    manager_body = (await (await api("sales_manager")).get(f"/api/v1/orders/{order.number}")).json()
    assert manager_body["open_todos"][0]["facts"]["expected_margin"] == "61200.00"


async def test_todos_without_facts_have_none(api, session_factory):
    order = await in_approval(session_factory)
    await approve_todo(session_factory, order, "1/director", role="director", facts=None)
    [todo] = (await (await api("director")).get("/api/v1/todos")).json()
    assert todo["facts"] is None


# Unroutable orders -----------------------------------------------------------------------------


async def unroutable(session_factory, reason: str = "no active person has the role director"):
    order = await in_approval(session_factory)
    async with session_factory() as session:
        row = await session.get(Order, order.id)
        row.unroutable_reason = reason
        row.unroutable_at = NOW - timedelta(hours=5)
        await session.commit()
    return order


@pytest.mark.parametrize("role", ["sales", "sales_manager", "director", "finance"])
async def test_only_admin_sees_the_unroutable_list(role, api, browser_session, session_factory):
    order = await unroutable(session_factory)
    assert (await (await api(role)).get("/api/v1/admin/unroutable")).status_code == 403
    assert (await (await browser_session(role)).get("/admin/unroutable")).status_code == 403
    refused = await (await api(role)).post(f"/api/v1/orders/{order.number}/route-again")
    assert refused.status_code == 403


async def test_admin_lists_unroutable_orders_with_why_and_since(
    api, browser_session, session_factory
):
    order = await unroutable(session_factory)
    await in_approval(session_factory)  # routed fine: not listed

    [row] = (await (await api("admin")).get("/api/v1/admin/unroutable")).json()
    assert row["number"] == order.number
    assert row["reason"] == "no active person has the role director"
    assert row["customer"]["id"] == 1
    assert row["owner"]["username"] == "sales"
    assert row["department"]["name"]
    assert parsed(row["since"]) == NOW - timedelta(hours=5)

    admin = await browser_session("admin")
    page = text_of(await admin.get("/admin/unroutable"))
    assert f'data-order="{order.number}"' in page
    assert "no active person has the role director" in page
    assert f'action="/admin/unroutable/{order.number}/route-again"' in page
    # the order page says so prominently, to everyone who sees the order
    order_page = text_of(await (await browser_session("sales")).get(f"/orders/{order.number}"))
    assert 'id="unroutable"' in order_page
    assert "No one can approve this order." in order_page


async def test_route_again_is_refused_for_an_order_that_is_not_unroutable(
    api, browser_session, session_factory
):
    order = await in_approval(session_factory)
    response = await (await api("admin")).post(f"/api/v1/orders/{order.number}/route-again")
    assert response.status_code == 409
    assert response.json()["detail"] == f"Order {order.number} is not waiting for a route."

    admin = await browser_session("admin")
    token = csrf_of((await admin.get("/admin/unroutable")).text)
    posted = await admin.post(
        f"/admin/unroutable/{order.number}/route-again", data={"csrf_token": token}
    )
    assert posted.status_code == 303 and posted.headers["location"] == "/admin/unroutable"
    after = text_of(await admin.get("/admin/unroutable"))
    assert f"Order {order.number} is not waiting for a route." in after
    assert 'class="flash error"' in after
    missing = await admin.post(
        "/admin/unroutable/SO-1999-00001/route-again", data={"csrf_token": token}
    )
    assert missing.status_code == 404


async def test_route_again_form_needs_the_csrf_token(browser_session, session_factory):
    order = await unroutable(session_factory)
    admin = await browser_session("admin")
    response = await admin.post(f"/admin/unroutable/{order.number}/route-again", data={})
    assert response.status_code == 403


# Through the real workflow ---------------------------------------------------------------------


async def test_real_approval_shows_progress_and_facts(api, worker):
    sales, number = await submitted_order(api)
    await estimated(api, number)
    manager = await api("sales_manager")
    todo = await todo_of(manager, number, "approve")
    # 2 × 8,500 + 10 × 1,200 × 95 %, costs 2 × 5,100 + 10 × 650
    assert todo["facts"]["total"] == "28400.00"
    assert Decimal(todo["facts"]["max_discount_percent"]) == Decimal("5")
    assert todo["facts"]["expected_margin"] == "11700.00"
    assert todo["facts"]["over_credit_limit"] is False
    assert todo["facts"]["short_lines"] == []

    pending = (await sales.get(f"/api/v1/orders/{number}")).json()["approvals"]
    [stage] = pending[0]["stages"]
    [step] = stage["steps"]
    assert step["pending_since"] is not None and step["decision"] is None
    assert step["todo_id"] == todo["id"]
    assert step["reason"]  # why it applies, in words
    assert pending[0]["policy_version"] >= 1

    decided = await manager.post(
        f"/api/v1/todos/{todo['id']}/complete", json={"outcome": "approve"}
    )
    assert decided.status_code == 200, decided.text
    order = await stage_of(sales, number, "confirmed")
    [approval] = order["approvals"]
    assert approval["status"] == "approved" and approval["ended_at"]
    [step] = approval["stages"][0]["steps"]
    assert step["decision"] == "approve" and step["pending_since"] is None
    assert step["decided_by"]["username"] == "sales_manager"


async def set_manager(session_factory, department: str, username: str | None) -> None:
    async with session_factory() as session:
        row = await session.scalar(select(Department).where(Department.name == department))
        row.manager_id = await user_id(session_factory, username) if username else None
        await session.commit()


async def listed(admin: httpx.AsyncClient, number: str, *, present: bool) -> list[dict]:
    for _ in range(200):
        rows = (await admin.get("/api/v1/admin/unroutable")).json()
        if any(r["number"] == number for r in rows) == present:
            return rows
        await asyncio.sleep(0.05)
    raise AssertionError(f"{number} {'never' if present else 'still'} on the unroutable list")


async def test_order_without_a_manager_is_unroutable_until_admin_routes_it_again(
    api, browser_session, worker, session_factory
):
    await set_manager(session_factory, "East China office", None)
    await set_manager(session_factory, "Sales", None)
    sales, number = await submitted_order(api)
    await estimated(api, number)
    admin = await api("admin")
    [row] = await listed(admin, number, present=True)
    assert "manager" in row["reason"]
    order = (await sales.get(f"/api/v1/orders/{number}")).json()
    assert order["unroutable_reason"] == row["reason"]

    # Routing again before anything is fixed leaves it on the list, and the page says why.
    page = await browser_session("admin")
    token = csrf_of((await page.get("/admin/unroutable")).text)
    posted = await page.post(f"/admin/unroutable/{number}/route-again", data={"csrf_token": token})
    assert posted.status_code == 303
    after = text_of(await page.get("/admin/unroutable"))
    assert f"Order {number} still cannot be routed: {row['reason']}" in after
    assert f'data-order="{number}"' in after

    await set_manager(session_factory, "East China office", "sales_manager")
    routed = await admin.post(f"/api/v1/orders/{number}/route-again")
    assert routed.status_code == 200, routed.text
    assert routed.json()["unroutable_reason"] is None
    await listed(admin, number, present=False)
    todo = await todo_of(await api("sales_manager"), number, "approve")
    assert todo["facts"]["total"] == "28400.00"
    again = await admin.post(f"/api/v1/orders/{number}/route-again")
    assert again.status_code == 409
