"""The paths bench/faults.py drives its orders along besides the plain whole life: a change
approved after confirmation (the delivery date, or a quantity, which pricing estimate first) and a
cancellation after confirmation with a paid deposit and an issued invoice; and what each path
leaves in the database (to-dos, timeline, mail), as a run without faults writes it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, NoReturn, Protocol

from bench.order_flow import APPROVE, CANCEL_BODY, PRODUCTS, milestone_plan, settlement

PLAIN, DATE_CHANGE, QUANTITY_CHANGE, CANCELLED = "plain", "date", "quantity", "cancelled"
CHANGES = (DATE_CHANGE, QUANTITY_CHANGE)
# A date change moves the delivery 30 days later; a quantity change takes one sensor more.
CHANGE_DELAY = timedelta(days=30)
CHANGED_LINE = ("SENSOR-7", Decimal(PRODUCTS["SENSOR-7"]) + 1)
# Who decides each stage of a change's approval round (bench/order_flow.py's policy: the owner's
# manager, then the director for the 20 % discount the orders carry).
CHANGE_APPROVERS = ("sales_manager", "director")
# Steps of these paths' own actions: a kill aimed at them waits for one in flight.
NEW_PATH_STEPS = ("change", "cancel", "refund", "credit_note", "replan")

# The plain whole life: each to-do once (two approval stages, two payments confirmed).
PLAIN_TODOS = Counter(
    {
        "estimate_cost": 1,
        "approve": 2,
        "plan_shipment": 1,
        "confirm_payment": 2,
        "record_actual_costs": 1,
        "approve_actual_costs": 1,
        "confirm_dispatch": 1,
        "confirm_arrival": 1,
        "issue_invoice": 1,
        "review_variance": 1,
        "approve_variance": 1,
    }
)
# Its timeline, each event once but for the two approval stages and the two payments (measured
# on a run without faults; `--profile` prints them).
PLAIN_TIMELINE = Counter(
    {
        "created": 1,
        "submitted": 1,
        "estimated": 1,
        "approval_requested": 2,
        "approved": 2,
        "confirmed": 1,
        "installments_due": 2,
        "shipment_planned": 1,
        "payment_registered": 2,
        "payment_confirmed": 2,
        "actual_costs_recorded": 1,
        "actual_costs_approved": 1,
        "dispatched": 1,
        "arrived": 1,
        "accepted": 1,
        "invoice_requested": 1,
        "invoice_issued": 1,
        "fully_paid": 1,
        "cost_review_started": 1,
        "variance_reviewed": 1,
        "variance_approved": 1,
        "closed": 1,
    }
)
# A change adds its approval round (two stages), the installments due again on the new terms,
# the re-plan the moved dates ask, and for a quantity pricing's estimate of the change.
CHANGE_TODOS = Counter({"approve_change": 2, "replan_shipment": 1})
CHANGE_TIMELINE = Counter(
    {
        "change_requested": 1,
        "approval_requested": 2,
        "approved": 2,
        "change_applied": 1,
        "installments_due": 1,
        "shipment_replanned": 1,
    }
)
PATH_TODOS = {
    PLAIN: PLAIN_TODOS,
    DATE_CHANGE: PLAIN_TODOS + CHANGE_TODOS,
    QUANTITY_CHANGE: PLAIN_TODOS + CHANGE_TODOS + Counter({"estimate_cost": 1}),
    CANCELLED: Counter(
        {
            "estimate_cost": 1,
            "approve": 2,
            "plan_shipment": 1,
            "confirm_dispatch": 1,
            "confirm_payment": 1,
            "record_actual_costs": 1,
            "issue_invoice": 1,
            "approve_cancellation": 1,
            "confirm_refund": 1,
            "issue_credit_note": 1,
        }
    ),
}
PATH_TIMELINE = {
    PLAIN: PLAIN_TIMELINE,
    DATE_CHANGE: PLAIN_TIMELINE + CHANGE_TIMELINE,
    QUANTITY_CHANGE: PLAIN_TIMELINE + CHANGE_TIMELINE + Counter({"change_estimated": 1}),
    CANCELLED: Counter(
        {
            "created": 1,
            "submitted": 1,
            "estimated": 1,
            "approval_requested": 2,
            "approved": 2,
            "confirmed": 1,
            "installments_due": 1,
            "shipment_planned": 1,
            "payment_registered": 1,
            "payment_confirmed": 1,
            "invoice_requested": 1,
            "invoice_issued": 1,
            "cancellation_requested": 1,
            "cancellation_approved": 1,
            "shipment_withdrawn": 1,
            "collection_stopped": 1,
            "refunded": 1,
            "credit_note_issued": 1,
            "cancelled": 1,
        }
    ),
}
# Mail in the outbox (`order-<n>/…` keys), and the subjects one recipient gets twice: each
# payment (finance asked to confirm it, the owner told), pricing's estimates of the order and
# of a quantity change. A change mails its two approvers' to-dos, the re-plan and "change
# applied" to seven (owner, approvers, ops, the warehouse, finance, the customer's contact);
# a cancellation its approval, the refund and credit note to-dos, "cancellation approved" to the
# owner and ops, "order cancelled" to the contact, the warehouse and the owner.
PATH_MAILS = {PLAIN: 23, DATE_CHANGE: 33, QUANTITY_CHANGE: 34, CANCELLED: 20}
PAYMENTS_MAILED = ("Confirm a payment received", "Payment confirmed")
TWICE_MAILED = {
    PLAIN: PAYMENTS_MAILED,
    DATE_CHANGE: PAYMENTS_MAILED,
    QUANTITY_CHANGE: (*PAYMENTS_MAILED, "Estimate the cost"),
    CANCELLED: (),
}
# Actions an order takes: the plain life's 16 updates and the submit; a change's request,
# approvals, re-plan (and estimate); a cancellation stops after the invoice and adds its
# request, approval, refund and credit note.
PATH_ACTIONS = {PLAIN: 17, DATE_CHANGE: 21, QUANTITY_CHANGE: 22, CANCELLED: 13}


def quantities(path: str) -> dict[str, Decimal]:
    """What an order of this path takes from stock in the end."""
    if path == CANCELLED:
        return {}
    taken = {code: Decimal(quantity) for code, quantity in PRODUCTS.items()}
    if path == QUANTITY_CHANGE:
        code, quantity = CHANGED_LINE
        taken[code] = quantity
    return taken


def spread(orders: int, changes: int, cancellations: int) -> list[str]:
    """Each order's path by its index: `cancellations` cancelled and `changes` changed
    (alternately the quantity and the date, the quantity first) spread evenly over the run, the
    rest plain. The same counts give the same choice."""
    paths = [PLAIN] * orders
    queues = [[CHANGES[1 - k % 2] for k in range(changes)], [CANCELLED] * cancellations]
    special: list[str] = []
    while any(queues):  # the kinds interleaved, so the cancellations do not all come first
        special += [queue.pop(0) for queue in queues if queue]
    special = special[:orders]
    for k, path in enumerate(special):
        i = int((k + 0.5) * orders / len(special))
        while paths[i] != PLAIN:
            i = (i + 1) % orders
        paths[i] = path
    return paths


class OrderSteps(Protocol):
    """One order's patient steps through the API (bench/faults.py's OrderRun)."""

    number: str
    today: date
    done: set[int]

    async def order_now(self) -> dict: ...

    async def wait_for(self, what: str, found: Callable[[dict], Any]) -> tuple[Any, dict]: ...

    async def todo(self, kind: str) -> tuple[dict, dict]: ...

    async def finish(
        self, user: str, todo: dict, body: dict, *, what: str | None = None
    ) -> dict | None: ...

    async def complete(
        self, user: str, kind: str, body: dict, *, what: str | None = None
    ) -> dict | None: ...

    async def action(
        self, user: str, what: str, path: str, body: dict | None, *, update: bool = True
    ) -> dict | None: ...

    async def pay(self, position: int) -> Decimal: ...

    async def invoice(self, amount: str) -> None: ...

    def fail(self, message: str) -> NoReturn: ...


async def change_delivery_date(run: OrderSteps) -> list[str]:
    """After planning: the owner asks for a delivery 30 days later, the approvers approve it,
    ops re-plan. What the order then shows wrongly, if anything."""
    order = await run.order_now()
    later = date.fromisoformat(order["requested_delivery_date"]) + CHANGE_DELAY
    body = {"reason": "Faults: the customer asks for a later delivery.",
            "requested_delivery_date": later.isoformat()}  # fmt: skip
    await ask_for_change(run, body)
    changed = await approve_change(run)
    if changed["requested_delivery_date"] != later.isoformat():
        return [f"requested_delivery_date {changed['requested_delivery_date']} (expected {later})"]
    return []


async def change_quantity(run: OrderSteps) -> list[str]:
    """After the deposit: the owner asks for one sensor more, pricing estimate the change,
    the approvers approve it, ops re-plan. What the order then shows wrongly, if anything."""
    order = await run.order_now()
    code, quantity = CHANGED_LINE
    lines = [
        {"line_id": line["id"],
         "quantity": str(quantity) if line["product_code"] == code else line["quantity"]}
        for line in order["lines"]
    ]  # fmt: skip
    await ask_for_change(run, {"reason": "Faults: the customer wants one more.", "lines": lines})
    estimate, _ = await run.todo("estimate_cost")
    facts = estimate.get("cost_facts") or run.fail("the change's estimate shows no cost facts")
    costs = [
        {"line_id": line["line_id"], "unit_cost": line["unit_cost"] or line["standard_cost"]}
        for line in facts["lines"]
    ]
    body = {"outcome": "estimated", "lines": costs, "freight": facts["freight"]}
    await run.finish("pricing", estimate, body, what="complete estimate_cost of the change")
    changed = await approve_change(run)
    now = {line["product_code"]: Decimal(line["quantity"]) for line in changed["lines"]}
    wrong = [] if now.get(code) == quantity else [f"{code} quantity {now.get(code)}"]
    if Decimal(changed["total"]) <= Decimal(order["total"]):
        wrong.append(f"total {changed['total']} (was {order['total']}: it should have grown)")
    return wrong


async def ask_for_change(run: OrderSteps, body: dict) -> None:
    path = f"/api/v1/orders/{run.number}/change-requests"
    await run.action("sales", "ask for a change", path, body)


async def approve_change(run: OrderSteps) -> dict:
    """Each stage's approver approves the change, in turn, until the order is at revision 2;
    then ops re-plan the shipment (the change moved its dates or its lines). The order."""

    def next_step(order: dict) -> tuple[str, dict] | None:
        if order.get("revision", 1) >= 2:
            return "applied", order
        for asked in order.get("change_requests", []):
            if asked["status"] in ("rejected", "withdrawn"):
                run.fail(f"change request {asked.get('number')} {asked['status']}")
        todo = next((t for t in order.get("open_todos", [])
                     if t["kind"] == "approve_change" and t["id"] not in run.done),
                    None)  # fmt: skip
        return ("todo", todo) if todo else None

    decided = 0
    while True:
        (step, item), order = await run.wait_for("await approve_change or revision 2", next_step)
        if step == "applied":
            break
        if decided >= len(CHANGE_APPROVERS):
            run.fail(f"a change approval stage beyond {len(CHANGE_APPROVERS)}")
        await run.finish(CHANGE_APPROVERS[decided], item, APPROVE,
                         what=f"complete approve_change {decided + 1}")  # fmt: skip
        decided += 1
    replanned = {"outcome": "planned", "milestones": milestone_plan(run.today, 2)}
    await run.complete("ops", "replan_shipment", replanned, what="complete replan_shipment")
    return order


async def cancel_after_deposit(run: OrderSteps) -> list[str]:
    """The deposit paid and invoiced, the owner cancels; the manager approves; finance refund
    the deposit and issue the credit note until the order is cancelled. What the order then
    shows wrongly, if anything."""
    deposit = await run.pay(1)
    await run.invoice(str(deposit))
    await run.action("sales", "ask to cancel", f"/api/v1/orders/{run.number}/cancel", CANCEL_BODY)
    await run.complete("sales_manager", "approve_cancellation", APPROVE,
                       what="complete approve_cancellation")  # fmt: skip

    def next_step(order: dict) -> tuple[str, dict] | None:
        status = (order.get("cancellation") or {}).get("status")
        if order["stage"] == "cancelled" and status == "cancelled":
            return "done", order
        todo = next((t for t in order.get("open_todos", [])
                     if t["kind"] in ("confirm_refund", "issue_credit_note")
                     and t["id"] not in run.done), None)  # fmt: skip
        return ("todo", todo) if todo else None

    settled = 0
    while True:
        (step, item), order = await run.wait_for("await a refund, credit note or cancelled",
                                                 next_step)  # fmt: skip
        if step == "done":
            break
        settled += 1
        body = settlement(run.number, item, order, settled, run.today)
        await run.finish("finance", item, body, what=f"complete {item['kind']}")
    return cancelled_figures(item, deposit)


def cancelled_figures(order: dict, deposit: Decimal) -> list[str]:
    """A cancelled order's figures: the deposit refunded, the invoice credited."""
    wrong = []
    if Decimal(order["refunded"]) != deposit:
        wrong.append(f"refunded {order['refunded']} (expected {deposit})")
    notes = [(n["status"], n["number"]) for n in order.get("credit_notes", [])]
    if len(notes) != 1 or notes[0][0] != "issued":
        wrong.append(f"credit notes {notes} (expected one issued)")
    return wrong
