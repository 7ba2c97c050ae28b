"""What tells a to-do apart from the order's other to-dos (two payments of one order, two late
milestones, two cost batches): read from what the to-do stores, its facts and the id of the
workflow that opened it, so an inbox of any length needs no query for it."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ValidationError

from models.domain import TodoKind


class TodoAbout(BaseModel):
    """The facts that distinguish one to-do; only those of its kind are set."""

    payment: int | None = None  # confirm_payment: the payment's number on the order
    installment: int | None = None  # collect: the installment overdue
    amount: Decimal | None = None  # the money it is about (for a cost batch: its total)
    method: str | None = None  # confirm_payment: bank_transfer, cash, ...
    reference: str | None = None  # confirm_payment: the payment's reference
    received_on: date | None = None  # confirm_payment
    due_on: date | None = None  # collect: the installment's due date
    milestone: str | None = None  # confirm_milestone: its code
    planned_on: date | None = None  # confirm_milestone: the date it was planned for
    batch: int | None = None  # approve_actual_costs: the batch's number
    invoice_request: int | None = None  # issue_invoice: the application's number
    invoice_number: str | None = None  # issue_credit_note: the invoice it credits
    refund: int | None = None  # confirm_refund: the refund's number
    return_number: int | None = None  # approve_return, receive_return
    change_request: int | None = None  # approve_change, a change request's estimate_cost
    cancellation: int | None = None  # approve_cancellation
    exception: int | None = None  # handle_exception: the exception's number
    comment: str | None = None  # record_actual_costs after a rejected batch: why


def _number(facts: dict[str, Any], name: str) -> int | None:
    value = facts.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _payment(facts: dict[str, Any]) -> dict[str, Any]:
    return {
        "payment": _number(facts, "payment"),
        "amount": facts.get("amount"),
        "method": facts.get("method"),
        "reference": facts.get("reference"),
        "received_on": facts.get("received_on"),
    }


def _collect(facts: dict[str, Any]) -> dict[str, Any]:
    return {
        "installment": _number(facts, "installment"),
        "amount": facts.get("amount"),
        "due_on": facts.get("due"),
    }


def _milestone(facts: dict[str, Any]) -> dict[str, Any]:
    return {"milestone": facts.get("code"), "planned_on": facts.get("planned_date")}


def _batch(facts: dict[str, Any]) -> dict[str, Any]:
    return {"batch": _number(facts, "batch"), "amount": facts.get("total")}


def _invoice(facts: dict[str, Any]) -> dict[str, Any]:
    return {"invoice_request": _number(facts, "request"), "amount": facts.get("amount")}


def _refund(facts: dict[str, Any]) -> dict[str, Any]:
    return {
        "refund": _number(facts, "refund"),
        "amount": facts.get("amount"),
        "return_number": _number(facts, "return"),
    }


def _credit_note(facts: dict[str, Any]) -> dict[str, Any]:
    return {
        "invoice_number": facts.get("invoice_number") or None,
        "amount": facts.get("amount"),
        "return_number": _number(facts, "return"),
    }


def _received(facts: dict[str, Any]) -> dict[str, Any]:
    return {"return_number": _number(facts, "return")}


def _estimate(facts: dict[str, Any]) -> dict[str, Any]:
    return {"change_request": _number(facts, "change_request")}


def _cancellation(facts: dict[str, Any]) -> dict[str, Any]:
    return {"cancellation": _number(facts, "cancellation")}


def _exception(facts: dict[str, Any]) -> dict[str, Any]:
    return {"exception": _number(facts, "number")}


def _rejected_costs(facts: dict[str, Any]) -> dict[str, Any]:
    return {"comment": facts.get("comment") or None}


FROM_FACTS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    TodoKind.confirm_payment.value: _payment,
    TodoKind.collect.value: _collect,
    TodoKind.confirm_milestone.value: _milestone,
    TodoKind.approve_actual_costs.value: _batch,
    TodoKind.record_actual_costs.value: _rejected_costs,
    TodoKind.issue_invoice.value: _invoice,
    TodoKind.confirm_refund.value: _refund,
    TodoKind.issue_credit_note.value: _credit_note,
    TodoKind.receive_return.value: _received,
    TodoKind.estimate_cost.value: _estimate,
    TodoKind.approve_cancellation.value: _cancellation,
    TodoKind.handle_exception.value: _exception,
}

# An approval round of a change request or a return runs as a child workflow whose id names
# it (order-SO-2026-00001/change/2/approval): its to-dos' facts are the order's.
ROUND_OF = {
    TodoKind.approve_change.value: (re.compile(r"/change/(\d+)/approval$"), "change_request"),
    TodoKind.approve_return.value: (re.compile(r"/return/(\d+)/approval$"), "return_number"),
}
# Cost figures, for those who may see costs (DESIGN: field-level permission).
COST_KINDS = frozenset({TodoKind.approve_actual_costs.value, TodoKind.record_actual_costs.value})


def todo_about(
    kind: str, facts: dict[str, Any] | None, workflow_id: str, *, sees_costs: bool
) -> TodoAbout | None:
    """What distinguishes the to-do, or None when its kind has nothing more to say than its
    order (or what it stores cannot be read: the inbox shows whatever else it can)."""
    if kind in COST_KINDS and not sees_costs:
        return None
    found: dict[str, Any] = {}
    if kind in FROM_FACTS and facts:
        found = FROM_FACTS[kind](facts)
    elif kind in ROUND_OF:
        pattern, name = ROUND_OF[kind]
        if match := pattern.search(workflow_id or ""):
            found = {name: int(match.group(1))}
    given = {name: value for name, value in found.items() if value not in (None, "")}
    if not given:
        return None
    try:
        return TodoAbout.model_validate(given)
    except ValidationError:
        return None
