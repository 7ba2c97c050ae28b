"""Two orders through their whole life on the time-skipping server, through the JSON API only:
a domestic one and an export one whose robot service installs. At each step: who has which
to-do (and nobody else), the order's stage and its figures; at the end every mail each person
got, the timeline and what a sales rep may not see."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from temporalio.client import WorkflowExecutionStatus

from models.tables import OutboxMail
from tests.web.test_fulfilment_api import workflow_today
from web.schemas import COST_FIELDS, LINE_COST_FIELDS

# Every demo login: a to-do must reach the people it is for and nobody else.
ROLES = (
    "sales",
    "sales2",
    "follower",
    "sales_manager",
    "sales_manager2",
    "director",
    "pricing",
    "ops",
    "ops_manager",
    "warehouse",
    "service",
    "finance",
    "admin",
)
NO_COST_ROLES = ("sales", "follower", "warehouse", "service")
COST_ROLES = ("sales_manager", "director", "pricing", "ops", "ops_manager", "finance")


def email(username: str) -> str:
    return f"{username}@o2c.example.com"


@dataclass
class Life:
    """One order's life seen through the API by every demo login."""

    env: Any
    session_factory: Any
    clients: dict[str, httpx.AsyncClient]
    number: str = ""
    ids: dict[str, int] = field(default_factory=dict)  # product code -> id

    @classmethod
    async def begin(cls, api, env, session_factory) -> Life:
        clients = dict(zip(ROLES, await asyncio.gather(*(api(r) for r in ROLES)), strict=True))
        products = (await clients["sales"].get("/api/v1/products")).json()
        return cls(env, session_factory, clients, ids={p["code"]: p["id"] for p in products})

    def __getitem__(self, role: str) -> httpx.AsyncClient:
        return self.clients[role]

    async def order(self, role: str = "ops") -> dict[str, Any]:
        response = await self[role].get(f"/api/v1/orders/{self.number}")
        assert response.status_code == 200, response.text
        return response.json()

    async def open_todos(self) -> dict[str, list[str]]:
        """Each login's open to-dos of this order, by kind (logins without any left out)."""

        async def kinds(role: str) -> list[str]:
            response = await self[role].get("/api/v1/todos")
            assert response.status_code == 200, response.text
            return sorted(t["kind"] for t in response.json() if t["order_number"] == self.number)

        found = await asyncio.gather(*(kinds(role) for role in ROLES))
        return {role: k for role, k in zip(ROLES, found, strict=True) if k}

    async def at(self, stage: str, **todos: list[str]) -> None:
        """The order is in this stage (as its owner sees it) and exactly these logins have
        exactly these open to-dos of it, nobody else any; waiting up to 10 s for the workflows
        to get there."""
        wanted = {"stage": stage, **{role: sorted(kinds) for role, kinds in todos.items()}}
        for _ in range(100):
            seen = {"stage": (await self.order("sales"))["stage"], **await self.open_todos()}
            if seen == wanted:
                return
            await asyncio.sleep(0.1)
        assert seen == wanted

    async def todo(self, role: str, kind: str) -> dict[str, Any]:
        todos = (await self[role].get("/api/v1/todos")).json()
        [found] = [t for t in todos if t["order_number"] == self.number and t["kind"] == kind]
        return found

    async def complete(
        self, role: str, kind: str, body: dict[str, Any], status: int = 200
    ) -> dict[str, Any]:
        todo = await self.todo(role, kind)
        response = await self[role].post(f"/api/v1/todos/{todo['id']}/complete", json=body)
        assert response.status_code == status, response.text
        return response.json()

    async def becomes(self, check, what: str) -> dict[str, Any]:
        """The order (as ops see it) once check(order) holds: a child workflow moves it on in
        its own time."""
        for _ in range(100):
            order = await self.order()
            if check(order):
                return order
            await asyncio.sleep(0.1)
        raise AssertionError(f"{self.number}: never {what}: {order}")

    async def stage_is(self, stage: str) -> dict[str, Any]:
        return await self.becomes(lambda o: o["stage"] == stage, f"in stage {stage}")

    async def pay(self, amount: str, reference: str) -> None:
        """The owner registers money received today (finance then confirm it)."""
        response = await self["sales"].post(
            f"/api/v1/orders/{self.number}/payments",
            json={
                "amount": amount,
                "received_on": real_today().isoformat(),
                "method": "bank_transfer",
                "reference": reference,
            },
        )
        assert response.status_code == 202, response.text

    async def apply_for_invoice(self, amount: str) -> None:
        """The owner applies for an invoice (title, tax number, address: the customer's)."""
        applied = await self["sales"].post(
            f"/api/v1/orders/{self.number}/invoice-requests", json={"amount": amount}
        )
        assert applied.status_code == 202, applied.text

    async def mails(self) -> dict[str, list[str]]:
        """Every mail queued, by recipient, subjects in the order they were queued."""
        async with self.session_factory() as session:
            rows = await session.execute(
                select(OutboxMail.to_address, OutboxMail.subject).order_by(OutboxMail.id)
            )
            found: dict[str, list[str]] = {}
            for address, subject in rows:
                found.setdefault(address, []).append(subject)
            return found

    async def mail_bodies(self, address: str, subject: str | None = None) -> list[str]:
        """The bodies of a person's mails (of one subject), in the order they were queued."""
        query = select(OutboxMail.body).where(OutboxMail.to_address == address)
        if subject is not None:
            query = query.where(OutboxMail.subject == subject)
        async with self.session_factory() as session:
            return list(await session.scalars(query.order_by(OutboxMail.id)))

    async def todo_facts(self, kind: str) -> dict[str, Any]:
        """The figures ops see on the order's open to-do of this kind (its `cost_facts`)."""
        todo = await self.todo("ops", kind)
        assert todo["cost_facts"] is not None, todo
        return todo["cost_facts"]

    def todo_mail(self, what: str) -> str:
        return f"To-do for order {self.number}: {what}"

    def event_mail(self, what: str) -> str:
        return f"Order {self.number}: {what}"

    async def finished(self) -> None:
        """The order's workflow and its long-lived children completed."""
        for suffix in ("", "/shipment", "/collection"):
            handle = self.env.client.get_workflow_handle(f"order-{self.number}{suffix}")
            for _ in range(100):
                status = (await handle.describe()).status
                if status == WorkflowExecutionStatus.COMPLETED:
                    break
                await asyncio.sleep(0.1)
            assert status == WorkflowExecutionStatus.COMPLETED, f"{suffix}: {status}"


def real_today() -> date:
    """The web layer's today (a payment cannot be received after it)."""
    return datetime.now(UTC).date()


def money(order: dict[str, Any]) -> dict[str, Any]:
    return {
        name: order[name]
        for name in ("stage", "total", "paid", "outstanding", "invoiced", "collection_status")
    }


def costs(order: dict[str, Any]) -> dict[str, Any]:
    return {
        name: order[name]
        for name in (
            "expected_cost",
            "expected_margin",
            "expected_margin_percent",
            "actual_cost",
            "actual_margin",
            "variance",
            "variance_percent",
        )
    }


def installments(order: dict[str, Any]) -> list[tuple]:
    return [
        (i["position"], i["amount"], i["due_date"], i["paid"], i["status"])
        for i in order["installments"]
    ]


def item(category: str, amount: str, reference: str) -> dict[str, str]:
    return {"category": category, "amount": amount, "supplier_payment_reference": reference}


def batches(order: dict[str, Any]) -> list[tuple]:
    return [
        (
            b["number"],
            b["total"],
            b["final"],
            b["status"],
            b["comment"],
            [(i["category"], i["amount"], i["supplier_payment_reference"]) for i in b["items"]],
        )
        for b in order["cost_batches"]
    ]


def category_variances(order: dict[str, Any]) -> list[tuple]:
    return [
        (v["category"], v["expected"], v["actual"], v["difference"], v["percent"])
        for v in order["cost_variances"]
    ]


def review_categories(facts: dict[str, Any]) -> list[tuple]:
    """Expected against actual per category, as the review_variance to-do carries them."""
    return [
        (c["category"], c["expected"], c["actual"], c["difference"], c["percent"])
        for c in facts["categories"]
    ]


def settled(order: dict[str, Any]) -> dict[str, Any]:
    """What a closed order has left: nothing to pay, invoice or decide."""
    return {
        "health": order["health"],
        "pending_payments": order["pending_payments"],
        "invoice_pending": order["invoice_pending"],
        "not_invoiced": order["not_invoiced"],
        "open_todos": order["open_todos"],
        "delayed": order["delayed"],
    }


def approval_steps(order: dict[str, Any]) -> list[tuple]:
    return [
        (
            s["stage"],
            s["requirement"],
            s["decision"],
            s["decided_by"]["username"] if s["decided_by"] else None,
        )
        for r in order["approvals"]
        for s in r["steps"]
    ]


async def owner_was_told(life: Life) -> list[str]:
    """The comments of the owner's mails about money and the goods: each confirmed payment
    with what is left to pay, the invoice issued, the carrier."""
    told = []
    for what in ("Payment confirmed", "Invoice issued", "Dispatched"):
        for body in await life.mail_bodies(email("sales"), life.event_mail(what)):
            [comment] = [ln for ln in body.splitlines() if ln.startswith("Comment: ")]
            told.append(comment.removeprefix("Comment: "))
    return told


async def sales_rep_sees_no_cost(life: Life) -> None:
    """No cost, margin or variance figure reaches the roles that may not see costs; the
    roles that may, see them."""
    for role in NO_COST_ROLES:
        seen = await life.order(role)
        assert not COST_FIELDS & seen.keys(), role
        for line in seen["lines"]:
            assert not LINE_COST_FIELDS & line.keys(), role
    for role in COST_ROLES:
        assert (await life.order(role)).keys() >= COST_FIELDS, role
    hidden = await life["sales2"].get(f"/api/v1/orders/{life.number}")
    assert hidden.status_code == 404  # another office's rep does not see the order at all


# --- the domestic order ------------------------------------------------------------------------


# Each test pins every to-do and mail: on a server whose clock other tests ran ahead the deposit,
# due on the (wall-clock) day of confirmation, would be overdue at once. A server of its own.
@pytest.mark.own_test_server
async def test_a_domestic_order_lives_from_draft_to_closed_within_the_variance_threshold(
    api, worker, env, session_factory
):
    life = await Life.begin(api, env, session_factory)
    flow_today = await workflow_today(env)
    retention_on = real_today() + timedelta(days=200)

    # Draft: per-line discounts and a 2 % whole-order discount; 30/60/10 in installments.
    created = await life["sales"].post(
        "/api/v1/orders",
        json={
            "customer_id": 1,
            "shipping_mode": "domestic",
            "requested_delivery_date": (real_today() + timedelta(days=30)).isoformat(),
            "lines": [
                {"product_id": life.ids["PUMP-10"], "quantity": "4", "discount_percent": "5"},
                {"product_id": life.ids["VALVE-3"], "quantity": "20"},
                {"product_id": life.ids["SENSOR-7"], "quantity": "50", "discount_percent": "10"},
            ],
            "order_discount_percent": "2",
            "payment_plan": [
                {"percent": "30", "trigger": "confirmation", "offset_days": 0},
                {"percent": "60", "trigger": "acceptance", "offset_days": 15},
                {
                    "percent": "10",
                    "trigger": "fixed_date",
                    "offset_days": 0,
                    "fixed_date": retention_on.isoformat(),
                },
            ],
        },
    )
    assert created.status_code == 201, created.text
    life.number = created.json()["number"]
    # 4 × 8,500 × 95 % + 20 × 1,200 + 50 × 450 × 90 %, less 2 %: 31,654 + 23,520 + 19,845
    assert created.json()["total"] == "75019.00"
    draft = await life.order("sales")
    assert draft["stage"] == "draft" and draft["list_total"] == "80500.00"
    assert [line["amount"] for line in draft["lines"]] == ["31654.00", "23520.00", "19845.00"]
    assert [(i["amount"], i["due_date"]) for i in draft["installments"]] == [
        ("22505.70", None),
        ("45011.40", None),
        ("7501.90", None),
    ]
    await life.at("draft")

    # Submit: pricing estimate the cost.
    submitted = await life["sales"].post(f"/api/v1/orders/{life.number}/submit")
    assert submitted.status_code == 202, submitted.text
    await life.at("costing", pricing=["estimate_cost"])
    assert (await life.order("sales"))["stage"] == "costing"
    lines = (await life.order("pricing"))["lines"]
    done = await life.complete(
        "pricing",
        "estimate_cost",
        {
            "outcome": "estimated",
            "lines": [{"line_id": ln["id"], "unit_cost": ln["standard_cost"]} for ln in lines],
            "freight": "1200.00",
            "other": "300.00",
        },
    )
    assert done["stage"] == "approval"

    # Approval: the sales manager alone (small, shallow discounts, a fat margin).
    await life.at("approval", sales_manager=["approve"])
    seen = await life.order("sales_manager")
    assert seen["stage"] == "approval"
    # 4 × 5,100 + 20 × 650 + 50 × 210 + freight 1,200 + other 300
    assert costs(seen) == {
        "expected_cost": "45400.00",
        "expected_margin": "29619.00",
        "expected_margin_percent": "39.48",
        "actual_cost": None,
        "actual_margin": None,
        "variance": None,
        "variance_percent": None,
    }
    assert approval_steps(seen) == [(1, "sales_manager", None, None)]
    assert "expected_cost" not in await life.order("sales")
    done = await life.complete("sales_manager", "approve", {"outcome": "approve"})
    assert done["stage"] == "confirmed"

    # Confirmed: fulfilment begins, the first installment is due.
    await life.at("fulfilment", ops=["plan_shipment"])
    confirmed = await life.becomes(lambda o: o["installments"][0]["due_date"], "collecting")
    assert approval_steps(confirmed) == [(1, "sales_manager", "approve", "sales_manager")]
    assert money(confirmed) == {
        "stage": "fulfilment",
        "total": "75019.00",
        "paid": "0.00",
        "outstanding": "75019.00",
        "invoiced": "0.00",
        "collection_status": "due",
    }
    assert installments(confirmed) == [
        (1, "22505.70", real_today().isoformat(), "0.00", "due"),
        (2, "45011.40", None, "0.00", "not_due"),
        (3, "7501.90", retention_on.isoformat(), "0.00", "due"),
    ]

    # The deposit: the owner registers it, finance confirm it; ops are asked for the costs.
    await life.pay("22505.70", "TT-D-1")
    await life.at("fulfilment", ops=["plan_shipment"], finance=["confirm_payment"])
    await life.complete("finance", "confirm_payment", {"outcome": "confirm"})
    await life.at("fulfilment", ops=["plan_shipment", "record_actual_costs"])
    paid = await life.order()
    assert money(paid) == {
        "stage": "fulfilment",
        "total": "75019.00",
        "paid": "22505.70",
        "outstanding": "52513.30",
        "invoiced": "0.00",
        "collection_status": "due",
    }
    assert installments(paid)[0] == (1, "22505.70", real_today().isoformat(), "22505.70", "paid")

    # Actual costs, first batch: the goods, which finance reject (a comment is required).
    await life.complete(
        "ops",
        "record_actual_costs",
        {"outcome": "recorded", "items": [item("goods", "44150.00", "SUP-D-100")]},
    )
    await life.at(
        "fulfilment", ops=["plan_shipment", "record_actual_costs"], finance=["approve_actual_costs"]
    )
    await life.complete("finance", "approve_actual_costs", {"outcome": "reject"}, 422)
    await life.complete(
        "finance",
        "approve_actual_costs",
        {"outcome": "reject", "comment": "SUP-D-100 is another order's; ours is SUP-D-101"},
    )
    await life.at("fulfilment", ops=["plan_shipment", "record_actual_costs"])
    assert (await life.order())["actual_cost"] is None
    # Recorded again, approved; then the second batch, the last.
    await life.complete(
        "ops",
        "record_actual_costs",
        {"outcome": "recorded", "items": [item("goods", "44150.00", "SUP-D-101")]},
    )
    await life.at(
        "fulfilment", ops=["plan_shipment", "record_actual_costs"], finance=["approve_actual_costs"]
    )
    await life.complete("finance", "approve_actual_costs", {"outcome": "approve"})
    await life.at("fulfilment", ops=["plan_shipment", "record_actual_costs"])
    assert (await life.order())["actual_cost"] == "44150.00"
    await life.complete(
        "ops",
        "record_actual_costs",
        {
            "outcome": "recorded",
            "final": True,
            "items": [
                item("freight", "1350.00", "SUP-D-200"),
                item("other", "280.00", "SUP-D-300"),
            ],
        },
    )
    await life.at("fulfilment", ops=["plan_shipment"], finance=["approve_actual_costs"])
    await life.complete("finance", "approve_actual_costs", {"outcome": "approve"})
    await life.at("fulfilment", ops=["plan_shipment"])
    costed = await life.order("finance")
    assert costed["actual_cost"] == "45780.00"
    assert batches(costed) == [
        (
            1,
            "44150.00",
            False,
            "rejected",
            "SUP-D-100 is another order's; ours is SUP-D-101",
            [("goods", "44150.00", "SUP-D-100")],
        ),
        (2, "44150.00", False, "approved", None, [("goods", "44150.00", "SUP-D-101")]),
        (
            3,
            "1630.00",
            True,
            "approved",
            None,
            [("freight", "1350.00", "SUP-D-200"), ("other", "280.00", "SUP-D-300")],
        ),
    ]

    # Fulfilment: plan, dispatch, arrival (nothing needs installation: accepted on arrival).
    plan = [
        {"code": code, "planned_date": (flow_today + timedelta(days=n)).isoformat()}
        for n, code in enumerate(("picking", "dispatch", "arrival"), start=1)
    ]
    done = await life.complete("ops", "plan_shipment", {"outcome": "planned", "milestones": plan})
    assert done["stage"] == "fulfilment"
    await life.at("fulfilment", warehouse=["confirm_dispatch"])
    await life.complete(
        "warehouse",
        "confirm_dispatch",
        {"outcome": "dispatched", "carrier": "SF Express", "tracking_number": "SF-D-1"},
    )
    await life.at("fulfilment", ops=["confirm_arrival"])
    assert (await life.order("sales"))["shipment_status"] == "in_transit"
    done = await life.complete(
        "ops", "confirm_arrival", {"outcome": "arrived", "actual_date": flow_today.isoformat()}
    )
    assert done["stage"] == "collection"
    await life.at("collection")
    accepted = await life.becomes(lambda o: o["installments"][1]["due_date"], "due on acceptance")
    assert accepted["shipment_status"] == "accepted"
    assert accepted["accepted_on"] == flow_today.isoformat()
    assert [(m["code"], m["actual_date"], m["status"]) for m in accepted["milestones"]] == [
        ("picking", flow_today.isoformat(), "done_on_time"),
        ("dispatch", flow_today.isoformat(), "done_on_time"),
        ("arrival", flow_today.isoformat(), "done_on_time"),
    ]
    assert installments(accepted) == [
        (1, "22505.70", real_today().isoformat(), "22505.70", "paid"),
        (2, "45011.40", (flow_today + timedelta(days=15)).isoformat(), "0.00", "due"),
        (3, "7501.90", retention_on.isoformat(), "0.00", "due"),
    ]

    # The invoice for the whole order.
    await life.apply_for_invoice("75019.00")
    await life.at("collection", finance=["issue_invoice"])
    assert (await life.order())["invoice_pending"] == "75019.00"
    await life.complete(
        "finance", "issue_invoice", {"outcome": "issued", "invoice_number": "INV-D-0001"}
    )
    await life.at("collection")
    invoiced = await life.order("sales")
    assert money(invoiced) == {
        "stage": "collection",
        "total": "75019.00",
        "paid": "22505.70",
        "outstanding": "52513.30",
        "invoiced": "75019.00",
        "collection_status": "due",
    }
    [invoice] = invoiced["invoices"]
    assert (invoice["status"], invoice["invoice_number"], invoice["amount"]) == (
        "issued",
        "INV-D-0001",
        "75019.00",
    )

    # The acceptance payment, then the retention paid early: collection is done.
    await life.pay("45011.40", "TT-D-2")
    await life.at("collection", finance=["confirm_payment"])
    await life.complete("finance", "confirm_payment", {"outcome": "confirm"})
    await life.at("collection")
    assert (await life.order())["outstanding"] == "7501.90"
    await life.pay("7501.90", "TT-D-3")
    await life.at("collection", finance=["confirm_payment"])
    await life.complete("finance", "confirm_payment", {"outcome": "confirm"})

    # Cost review: the costs are complete, so ops (or an operations manager) review at once.
    await life.at("cost_review", ops=["review_variance"], ops_manager=["review_variance"])
    reviewing = await life.order()
    assert money(reviewing) == {
        "stage": "cost_review",
        "total": "75019.00",
        "paid": "75019.00",
        "outstanding": "0.00",
        "invoiced": "75019.00",
        "collection_status": "paid",
    }
    assert [i[3:] for i in installments(reviewing)] == [
        ("22505.70", "paid"),
        ("45011.40", "paid"),
        ("7501.90", "paid"),
    ]
    facts = await life.todo_facts("review_variance")
    assert (facts["expected"], facts["actual"], facts["difference"], facts["percent"]) == (
        "45400.00",
        "45780.00",
        "380.00",
        "0.84",
    )
    assert facts["above_threshold"] is False
    assert review_categories(facts) == [
        ("goods", "43900.00", "44150.00", "250.00", "0.57"),
        ("freight", "1200.00", "1350.00", "150.00", "12.50"),
        ("installation", "0.00", "0.00", "0.00", None),
        ("customs", "0.00", "0.00", "0.00", None),
        ("other", "300.00", "280.00", "-20.00", "-6.67"),
    ]
    # 380.00 is 0.84 % of the expected cost: within 5 %, no explanation needed, and it closes.
    done = await life.complete("ops", "review_variance", {"outcome": "reviewed"})
    assert done["stage"] == "closed"
    await life.at("closed")

    closed = await life.order()
    assert money(closed)["stage"] == "closed" and closed["closed_at"]
    assert costs(closed) == {
        "expected_cost": "45400.00",
        "expected_margin": "29619.00",
        "expected_margin_percent": "39.48",
        "actual_cost": "45780.00",
        "actual_margin": "29239.00",
        "variance": "380.00",
        "variance_percent": "0.84",
    }
    assert closed["variance_explanation"] is None
    assert category_variances(closed) == [
        ("goods", "43900.00", "44150.00", "250.00", "0.57"),
        ("freight", "1200.00", "1350.00", "150.00", "12.50"),
        ("installation", "0.00", "0.00", "0.00", None),
        ("customs", "0.00", "0.00", "0.00", None),
        ("other", "300.00", "280.00", "-20.00", "-6.67"),
    ]
    assert settled(closed) == {
        "health": "green",
        "pending_payments": "0.00",
        "invoice_pending": "0.00",
        "not_invoiced": "0.00",
        "open_todos": [],
        "delayed": False,
    }
    assert [(p["amount"], p["reference"], p["status"]) for p in closed["payments"]] == [
        ("22505.70", "TT-D-1", "confirmed"),
        ("45011.40", "TT-D-2", "confirmed"),
        ("7501.90", "TT-D-3", "confirmed"),
    ]
    assert all(p["decided_by"]["username"] == "finance" for p in closed["payments"])
    listed = (await life["sales"].get("/api/v1/orders", params={"stage": "closed"})).json()
    assert [o["number"] for o in listed["items"]] == [life.number]
    await life.finished()

    assert [e["kind"] for e in closed["timeline"]] == [
        "created",
        "submitted",
        "estimated",
        "approval_requested",
        "approved",
        "confirmed",
        "installments_due",
        "payment_registered",
        "payment_confirmed",
        "actual_costs_recorded",
        "actual_costs_rejected",
        "actual_costs_recorded",
        "actual_costs_approved",
        "actual_costs_recorded",
        "actual_costs_approved",
        "shipment_planned",
        "dispatched",
        "arrived",
        "accepted",
        "installments_due",
        "invoice_requested",
        "invoice_issued",
        "payment_registered",
        "payment_confirmed",
        "payment_registered",
        "payment_confirmed",
        "fully_paid",
        "cost_review_started",
        "variance_reviewed",
        "closed",
    ]

    todo, event = life.todo_mail, life.event_mail
    assert await life.mails() == {
        email("pricing"): [todo("Estimate the cost")],
        email("sales_manager"): [todo("Approve the order"), event("Order confirmed")],
        email("sales"): [
            event("Order confirmed"),
            event("Payment confirmed"),
            event("Dispatched"),
            event("Accepted by the customer"),
            event("Invoice issued"),
            event("Payment confirmed"),
            event("Payment confirmed"),
            event("Order closed"),
        ],
        "xu.ming@shpm.example.com": [event("Order confirmed"), event("Dispatched")],
        email("ops"): [
            todo("Plan the shipment"),
            todo("Record the actual costs"),
            todo("Record the actual costs"),
            event("Actual costs rejected"),
            todo("Record the actual costs"),
            todo("Confirm the arrival"),
            todo("Review the cost variance"),
        ],
        email("finance"): [
            todo("Confirm a payment received"),
            todo("Approve actual costs"),
            todo("Approve actual costs"),
            todo("Approve actual costs"),
            todo("Issue an invoice"),
            todo("Confirm a payment received"),
            todo("Confirm a payment received"),
        ],
        email("warehouse"): [todo("Confirm the dispatch")],
        email("ops_manager"): [todo("Review the cost variance")],
    }
    assert await owner_was_told(life) == [
        "22,505.70 (TT-D-1); outstanding 52,513.30",
        "45,011.40 (TT-D-2); outstanding 7,501.90",
        "7,501.90 (TT-D-3); outstanding 0.00",
        "INV-D-0001: 75,019.00",
        "carrier SF Express, tracking number SF-D-1",
    ]
    for body in await life.mail_bodies(email("sales")):
        for figure in ("45,400.00", "45,780.00", "29,619.00", "29,239.00", "380.00"):
            assert figure not in body
    await sales_rep_sees_no_cost(life)


# --- the export order --------------------------------------------------------------------------


@pytest.mark.own_test_server
async def test_an_export_order_with_installation_lives_from_draft_to_closed_above_the_threshold(
    api, worker, env, session_factory
):
    life = await Life.begin(api, env, session_factory)
    flow_today = await workflow_today(env)

    created = await life["sales"].post(
        "/api/v1/orders",
        json={
            "customer_id": 5,  # Saigon Industrial Supply
            "shipping_mode": "export",
            "requested_delivery_date": (real_today() + timedelta(days=60)).isoformat(),
            "lines": [
                {"product_id": life.ids["ROBOT-1"], "quantity": "1"},
                {"product_id": life.ids["OIL-20"], "quantity": "5"},
            ],
            "payment_plan": [
                {"percent": "30", "trigger": "confirmation", "offset_days": 0},
                {"percent": "60", "trigger": "acceptance", "offset_days": 30},
                {"percent": "10", "trigger": "acceptance", "offset_days": 365},
            ],
        },
    )
    assert created.status_code == 201, created.text
    life.number = created.json()["number"]
    assert created.json()["total"] == "528000.00"  # 520,000 + 5 × 1,600
    submitted = await life["sales"].post(f"/api/v1/orders/{life.number}/submit")
    assert submitted.status_code == 202, submitted.text
    await life.at("costing", pricing=["estimate_cost"])
    assert (await life.order("sales"))["stage"] == "costing"
    lines = (await life.order("pricing"))["lines"]
    await life.complete(
        "pricing",
        "estimate_cost",
        {
            "outcome": "estimated",
            "lines": [{"line_id": ln["id"], "unit_cost": ln["standard_cost"]} for ln in lines],
            "freight": "12000.00",
            "installation": "8000.00",
        },
    )

    # Two stages: the sales manager, then the director (the total is 500,000 or more).
    await life.at("approval", sales_manager=["approve"])
    estimated = await life.order("director")
    # 390,000 + 5 × 1,100 + freight 12,000 + installation 8,000
    assert costs(estimated) == {
        "expected_cost": "415500.00",
        "expected_margin": "112500.00",
        "expected_margin_percent": "21.31",
        "actual_cost": None,
        "actual_margin": None,
        "variance": None,
        "variance_percent": None,
    }
    done = await life.complete("sales_manager", "approve", {"outcome": "approve"})
    assert done["stage"] == "approval"
    await life.at("approval", director=["approve"])
    second = await life.order("director")
    assert approval_steps(second) == [
        (1, "sales_manager", "approve", "sales_manager"),
        (2, "director", None, None),
    ]
    assert second["approvals"][0]["stages"][1]["steps"][0]["reason"] == "order total >= 500,000"
    done = await life.complete("director", "approve", {"outcome": "approve"})
    assert done["stage"] == "confirmed"
    await life.at("fulfilment", ops=["plan_shipment"])
    confirmed = await life.becomes(lambda o: o["installments"][0]["due_date"], "collecting")
    assert money(confirmed) == {
        "stage": "fulfilment",
        "total": "528000.00",
        "paid": "0.00",
        "outstanding": "528000.00",
        "invoiced": "0.00",
        "collection_status": "due",
    }
    assert installments(confirmed) == [
        (1, "158400.00", real_today().isoformat(), "0.00", "due"),
        (2, "316800.00", None, "0.00", "not_due"),
        (3, "52800.00", None, "0.00", "not_due"),
    ]

    # The deposit; then the goods and customs costs, approved at once.
    await life.pay("158400.00", "TT-E-1")
    await life.at("fulfilment", ops=["plan_shipment"], finance=["confirm_payment"])
    await life.complete("finance", "confirm_payment", {"outcome": "confirm"})
    await life.at("fulfilment", ops=["plan_shipment", "record_actual_costs"])
    paid = await life.order()
    assert (paid["paid"], paid["outstanding"], paid["collection_status"]) == (
        "158400.00",
        "369600.00",
        "not_due",
    )
    await life.complete(
        "ops",
        "record_actual_costs",
        {
            "outcome": "recorded",
            "items": [
                item("goods", "396000.00", "SUP-E-100"),
                item("customs", "4000.00", "SUP-E-110"),
            ],
        },
    )
    await life.at(
        "fulfilment", ops=["plan_shipment", "record_actual_costs"], finance=["approve_actual_costs"]
    )
    await life.complete("finance", "approve_actual_costs", {"outcome": "approve"})
    await life.at("fulfilment", ops=["plan_shipment", "record_actual_costs"])
    assert (await life.order())["actual_cost"] == "400000.00"

    # Fulfilment with the export milestones, which ops confirm.
    codes = (
        "picking",
        "dispatch",
        "port_departure",
        "customs_declaration",
        "commodity_inspection",
        "arrival",
    )
    plan = [
        {"code": code, "planned_date": (flow_today + timedelta(days=n)).isoformat()}
        for n, code in enumerate(codes, start=1)
    ]
    await life.complete("ops", "plan_shipment", {"outcome": "planned", "milestones": plan})
    await life.at("fulfilment", ops=["record_actual_costs"], warehouse=["confirm_dispatch"])
    await life.complete(
        "warehouse",
        "confirm_dispatch",
        {"outcome": "dispatched", "carrier": "COSCO", "tracking_number": "COSU-E-1"},
    )
    await life.at("fulfilment", ops=["confirm_arrival", "record_actual_costs"])
    for code in ("port_departure", "customs_declaration", "commodity_inspection"):
        refused = await life["warehouse"].post(
            f"/api/v1/orders/{life.number}/milestones/{code}/confirm",
            json={"actual_date": flow_today.isoformat()},
        )
        assert refused.status_code == 403, refused.text
        confirmed = await life["ops"].post(
            f"/api/v1/orders/{life.number}/milestones/{code}/confirm",
            json={"actual_date": flow_today.isoformat()},
        )
        assert confirmed.status_code == 200, confirmed.text
        assert confirmed.json()["stage"] == "fulfilment"
    await life.at("fulfilment", ops=["confirm_arrival", "record_actual_costs"])
    done = await life.complete(
        "ops", "confirm_arrival", {"outcome": "arrived", "actual_date": flow_today.isoformat()}
    )
    assert done["stage"] == "acceptance"

    # The robot needs installation: service confirm it and the customer's acceptance.
    await life.at("acceptance", ops=["record_actual_costs"], service=["confirm_acceptance"])
    arrived = await life.order("service")
    assert (arrived["stage"], arrived["shipment_status"]) == ("acceptance", "arrived")
    await life.complete(
        "service",
        "confirm_acceptance",
        {"outcome": "accepted", "accepted_on": flow_today.isoformat(), "signed_by": "Nguyen An"},
    )
    await life.at("collection", ops=["record_actual_costs"])
    accepted = await life.becomes(lambda o: o["installments"][1]["due_date"], "due on acceptance")
    assert (accepted["stage"], accepted["accepted_signed_by"]) == ("collection", "Nguyen An")
    assert [(m["code"], m["actual_date"], m["status"]) for m in accepted["milestones"]] == [
        (code, flow_today.isoformat(), "done_on_time") for code in codes
    ]
    assert installments(accepted) == [
        (1, "158400.00", real_today().isoformat(), "158400.00", "paid"),
        (2, "316800.00", (flow_today + timedelta(days=30)).isoformat(), "0.00", "due"),
        (3, "52800.00", (flow_today + timedelta(days=365)).isoformat(), "0.00", "due"),
    ]

    # The invoice; the acceptance payment; the retention, paid early.
    await life.apply_for_invoice("528000.00")
    await life.at("collection", ops=["record_actual_costs"], finance=["issue_invoice"])
    await life.complete(
        "finance", "issue_invoice", {"outcome": "issued", "invoice_number": "INV-E-0001"}
    )
    await life.at("collection", ops=["record_actual_costs"])
    await life.pay("316800.00", "TT-E-2")
    await life.at("collection", ops=["record_actual_costs"], finance=["confirm_payment"])
    await life.complete("finance", "confirm_payment", {"outcome": "confirm"})
    await life.at("collection", ops=["record_actual_costs"])
    await life.pay("52800.00", "TT-E-3")
    await life.at("collection", ops=["record_actual_costs"], finance=["confirm_payment"])
    await life.complete("finance", "confirm_payment", {"outcome": "confirm"})

    # Cost review begins, but the comparison waits until the costs are complete.
    reviewing = await life.stage_is("cost_review")
    assert money(reviewing) == {
        "stage": "cost_review",
        "total": "528000.00",
        "paid": "528000.00",
        "outstanding": "0.00",
        "invoiced": "528000.00",
        "collection_status": "paid",
    }
    await life.at("cost_review", ops=["record_actual_costs"])
    # The last batch, freight and installation, rejected once, recorded again, approved.
    await life.complete(
        "ops",
        "record_actual_costs",
        {
            "outcome": "recorded",
            "final": True,
            "items": [
                item("freight", "31000.00", "SUP-E-200"),
                item("installation", "9500.00", "SUP-E-300"),
            ],
        },
    )
    await life.at("cost_review", finance=["approve_actual_costs"])
    await life.complete(
        "finance",
        "approve_actual_costs",
        {"outcome": "reject", "comment": "The installer was paid under SUP-E-301"},
    )
    await life.at("cost_review", ops=["record_actual_costs"])
    await life.complete(
        "ops",
        "record_actual_costs",
        {
            "outcome": "recorded",
            "final": True,
            "items": [
                item("freight", "31000.00", "SUP-E-200"),
                item("installation", "9500.00", "SUP-E-301"),
            ],
        },
    )
    await life.at("cost_review", finance=["approve_actual_costs"])
    await life.complete("finance", "approve_actual_costs", {"outcome": "approve"})

    # The comparison: 25,000.00 over, 6.02 % of the expected cost, above 5 %.
    await life.at("cost_review", ops=["review_variance"], ops_manager=["review_variance"])
    costed = await life.order("ops_manager")
    assert costed["actual_cost"] == "440500.00"
    assert [b[:5] for b in batches(costed)] == [
        (1, "400000.00", False, "approved", None),
        (2, "40500.00", True, "rejected", "The installer was paid under SUP-E-301"),
        (3, "40500.00", True, "approved", None),
    ]
    facts = await life.todo_facts("review_variance")
    assert (facts["expected"], facts["actual"], facts["difference"], facts["percent"]) == (
        "415500.00",
        "440500.00",
        "25000.00",
        "6.02",
    )
    assert facts["above_threshold"] is True
    assert review_categories(facts) == [
        ("goods", "395500.00", "396000.00", "500.00", "0.13"),
        ("freight", "12000.00", "31000.00", "19000.00", "158.33"),
        ("installation", "8000.00", "9500.00", "1500.00", "18.75"),
        ("customs", "0.00", "4000.00", "4000.00", None),
        ("other", "0.00", "0.00", "0.00", None),
    ]
    refused = await life.complete("ops", "review_variance", {"outcome": "reviewed"}, 422)
    assert refused["detail"] == (
        "Explain the variance: it is above the threshold of 5 % of the expected cost."
    )
    await life.at("cost_review", ops=["review_variance"], ops_manager=["review_variance"])
    explanation = "Air freight after the sea slot was lost; customs duty not estimated"
    done = await life.complete(
        "ops", "review_variance", {"outcome": "reviewed", "explanation": explanation}
    )
    assert done["stage"] == "cost_review"
    await life.at("cost_review", ops_manager=["approve_variance"])
    assert (await life.order())["stage"] == "cost_review"
    done = await life.complete("ops_manager", "approve_variance", {"outcome": "approve"})
    assert done["stage"] == "closed"
    await life.at("closed")

    closed = await life.order("director")
    assert money(closed)["stage"] == "closed" and closed["closed_at"]
    assert costs(closed) == {
        "expected_cost": "415500.00",
        "expected_margin": "112500.00",
        "expected_margin_percent": "21.31",
        "actual_cost": "440500.00",
        "actual_margin": "87500.00",
        "variance": "25000.00",
        "variance_percent": "6.02",
    }
    assert closed["variance_explanation"] == explanation
    assert category_variances(closed) == [
        ("goods", "395500.00", "396000.00", "500.00", "0.13"),
        ("freight", "12000.00", "31000.00", "19000.00", "158.33"),
        ("installation", "8000.00", "9500.00", "1500.00", "18.75"),
        ("customs", "0.00", "4000.00", "4000.00", None),
        ("other", "0.00", "0.00", "0.00", None),
    ]
    assert settled(closed) == {
        "health": "green",
        "pending_payments": "0.00",
        "invoice_pending": "0.00",
        "not_invoiced": "0.00",
        "open_todos": [],
        "delayed": False,
    }
    assert [(p["amount"], p["reference"], p["status"]) for p in closed["payments"]] == [
        ("158400.00", "TT-E-1", "confirmed"),
        ("316800.00", "TT-E-2", "confirmed"),
        ("52800.00", "TT-E-3", "confirmed"),
    ]
    assert all(p["decided_by"]["username"] == "finance" for p in closed["payments"])
    listed = (await life["sales"].get("/api/v1/orders", params={"stage": "closed"})).json()
    assert [o["number"] for o in listed["items"]] == [life.number]
    await life.finished()

    assert [e["kind"] for e in closed["timeline"]] == [
        "created",
        "submitted",
        "estimated",
        "approval_requested",
        "approved",
        "approval_requested",
        "approved",
        "confirmed",
        "installments_due",
        "payment_registered",
        "payment_confirmed",
        "actual_costs_recorded",
        "actual_costs_approved",
        "shipment_planned",
        "dispatched",
        "milestone_done",
        "milestone_done",
        "milestone_done",
        "arrived",
        "accepted",
        "installments_due",
        "invoice_requested",
        "invoice_issued",
        "payment_registered",
        "payment_confirmed",
        "payment_registered",
        "payment_confirmed",
        "fully_paid",
        "cost_review_started",
        "actual_costs_recorded",
        "actual_costs_rejected",
        "actual_costs_recorded",
        "actual_costs_approved",
        "variance_reviewed",
        "variance_approved",
        "closed",
    ]

    todo, event = life.todo_mail, life.event_mail
    assert await life.mails() == {
        email("pricing"): [todo("Estimate the cost")],
        email("sales_manager"): [todo("Approve the order"), event("Order confirmed")],
        email("director"): [todo("Approve the order")],
        email("sales"): [
            event("Order confirmed"),
            event("Payment confirmed"),
            event("Dispatched"),
            event("Accepted by the customer"),
            event("Invoice issued"),
            event("Payment confirmed"),
            event("Payment confirmed"),
            event("Order closed"),
        ],
        "an.nguyen@sis.example.com": [event("Order confirmed"), event("Dispatched")],
        email("ops"): [
            todo("Plan the shipment"),
            todo("Record the actual costs"),
            todo("Record the actual costs"),
            todo("Confirm the arrival"),
            event("Actual costs rejected"),
            todo("Record the actual costs"),
            todo("Review the cost variance"),
        ],
        email("finance"): [
            todo("Confirm a payment received"),
            todo("Approve actual costs"),
            todo("Issue an invoice"),
            todo("Confirm a payment received"),
            todo("Confirm a payment received"),
            todo("Approve actual costs"),
            todo("Approve actual costs"),
        ],
        email("warehouse"): [todo("Confirm the dispatch")],
        email("service"): [todo("Confirm installation and acceptance")],
        email("ops_manager"): [todo("Review the cost variance"), todo("Approve the cost variance")],
    }
    assert await owner_was_told(life) == [
        "158,400.00 (TT-E-1); outstanding 369,600.00",
        "316,800.00 (TT-E-2); outstanding 52,800.00",
        "52,800.00 (TT-E-3); outstanding 0.00",
        "INV-E-0001: 528,000.00",
        "carrier COSCO, tracking number COSU-E-1",
    ]
    for body in await life.mail_bodies(email("sales")):
        for figure in ("415,500.00", "440,500.00", "112,500.00", "87,500.00", "25,000.00"):
            assert figure not in body
    await sales_rep_sees_no_cost(life)
