"""The order page's change request form: its values from the order as it is or as posted, and
the request they make (only what differs from the order; a line left out or ticked off is
removed); a refusal is said next to the field it is about."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.change_terms import FIXED_DATE_MISSING, PLAN_NOT_100
from models.domain import PaymentTrigger
from models.tables import Order, Product, User
from web.commands import changes
from web.commands.actions import Refused
from web.commands.changes import NOTHING_LEFT_TO_PAY, ChangeRequestForm
from web.forms.errors import invalid_input
from web.pages.orders.change_plan import (
    BLANK_PLAN_ROWS,
    PLAN_FIELDS,
    PlanStart,
    plan_body,
    plan_start,
    plan_was,
)
from web.pages.todo_forms import FormFields

LINE_FIELDS = ("id", "quantity", "unit_price", "discount_percent", "remove")
NEW_FIELDS = ("product_id", "quantity", "unit_price", "discount_percent")
NEW_LINE_ROWS = 2
TERM_FIELDS = (
    "adjustment",
    "order_discount_percent",
    "target_total",
    "requested_delivery_date",
    "reason",
)


def _number(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}"


def values_of_order(order: Order, start: PlanStart) -> dict[str, Any]:
    """The form as the order is: each line, no new line yet, the whole-order terms, the plan
    of what is not yet paid."""
    return {
        "form": "change",
        "lines": [
            {
                "id": str(ln.id),
                "quantity": _number(ln.quantity),
                "unit_price": f"{ln.unit_price:f}",
                "discount_percent": _number(ln.discount_percent),
                "remove": "",
            }
            for ln in order.lines
        ],
        "new": [],
        "adjustment": "discount"
        if order.order_discount_percent is not None
        else "target"
        if order.target_total is not None
        else "none",
        "order_discount_percent": _number(order.order_discount_percent),
        "target_total": f"{order.target_total:f}" if order.target_total is not None else "",
        "requested_delivery_date": str(order.requested_delivery_on or ""),
        "plan": start.rows,
        "plan_was": plan_was(start.rows),
        "reason": "",
    }


def _rows(form: FormFields, prefix: str, fields: tuple[str, ...]) -> list[dict[str, str]]:
    indexes = sorted(
        {
            int(key.split("-")[1])
            for key in form
            if key.startswith(f"{prefix}-") and key.count("-") == 2 and key.split("-")[1].isdigit()
        }
    )
    return [{f: str(form.get(f"{prefix}-{i}-{f}") or "").strip() for f in fields} for i in indexes]


def values_of_form(form: FormFields) -> dict[str, Any]:
    """The form's values as posted (from the form, or the preview's hidden copy of it)."""
    return {
        "form": "change",
        "lines": _rows(form, "line", LINE_FIELDS),
        "new": [row for row in _rows(form, "new", NEW_FIELDS) if any(row.values())],
        "plan": [row for row in _rows(form, "plan", PLAN_FIELDS) if row["percent"]],
        # None from a form that had no plan (sent before it had one): compared with the order's
        "plan_was": str(form["plan_was"]) if "plan_was" in form else None,
        **{name: str(form.get(name) or "").strip() for name in TERM_FIELDS},
    }


def _plain(number: str) -> str | None:
    return number.replace(",", "").replace(" ", "") or None


def _line_bodies(values: dict[str, Any]) -> list[dict[str, Any]]:
    kept = [
        {
            "line_id": row["id"],
            "quantity": _plain(row["quantity"]),
            "unit_price": _plain(row["unit_price"]),
            "discount_percent": _plain(row["discount_percent"]),
        }
        for row in values["lines"]
        if not row["remove"]
    ]
    added = [
        {
            "product_id": row["product_id"] or None,
            "quantity": _plain(row["quantity"]),
            "unit_price": _plain(row["unit_price"]),
            "discount_percent": _plain(row["discount_percent"]),
        }
        for row in values["new"]
    ]
    return [{k: v for k, v in body.items() if v is not None} for body in kept + added]


def _same_lines(form: ChangeRequestForm, order: Order) -> bool:
    """The form's lines are the order's, each as it is."""
    if form.lines is None or len(form.lines) != len(order.lines):
        return False
    existing = {ln.id: ln for ln in order.lines}
    for change in form.lines:
        line = existing.get(change.line_id or 0)
        if line is None or change.quantity != line.quantity:
            return False
        if change.unit_price is not None and change.unit_price != line.unit_price:
            return False
        if change.discount_percent is not None and change.discount_percent != line.discount_percent:
            return False
    return True


def _same_terms(form: ChangeRequestForm, order: Order) -> bool:
    """The form's whole-order discount or target total is the order's (no discount is 0 %)."""
    if form.target_total is not None:
        return order.order_discount_percent is None and form.target_total == order.target_total
    return order.target_total is None and form.order_discount_percent == (
        order.order_discount_percent or 0
    )


def change_of(values: dict[str, Any], order: Order, start: PlanStart) -> ChangeRequestForm:
    """The request the form makes: the reason, and only what differs from the order (a date
    left as it is is not checked against today again, a plan as it started is not sent). 422
    for what is not a number or a date."""
    body: dict[str, Any] = {"reason": values["reason"], "lines": _line_bodies(values)}
    if (plan := plan_body(values, start)) is not None:
        body["payment_plan"] = plan
    target = _plain(values["target_total"]) if values["adjustment"] == "target" else None
    if target is not None:
        body["target_total"] = target
    else:  # no whole-order discount is a discount of 0 %
        discount = values["order_discount_percent"] if values["adjustment"] == "discount" else ""
        body["order_discount_percent"] = _plain(discount) or "0"
    if values["requested_delivery_date"]:
        body["requested_delivery_date"] = values["requested_delivery_date"]
    try:
        form = ChangeRequestForm.model_validate(body)
    except ValidationError as error:
        raise invalid_input(error) from error
    unchanged = set()
    if _same_lines(form, order):
        unchanged.add("lines")
    if _same_terms(form, order):
        unchanged |= {"order_discount_percent", "target_total"}
    if form.requested_delivery_date == order.requested_delivery_on:
        unchanged.add("requested_delivery_date")
    return ChangeRequestForm.model_validate(form.model_dump(exclude_unset=True, exclude=unchanged))


async def change_form(
    *, session: AsyncSession, user: User, order: Order, values: dict[str, Any]
) -> dict[str, Any]:
    """The order page's change request form, for those who may ask for a change now: its
    values (as posted back after a refusal, else the order's) and the products to add."""
    refused = await changes.change_request_refusal(session=session, user=user, order=order)
    if refused is not None:
        return {"may_request_change": False}
    products = await session.scalars(
        select(Product).where(Product.active.is_(True)).order_by(Product.code)
    )
    start = await plan_start(session=session, order=order)
    mine = values if values.get("form") == "change" else values_of_order(order, start)
    blank = dict.fromkeys(NEW_FIELDS, "")
    blank_plan = {"percent": "", "trigger": "confirmation", "offset_days": "0", "fixed_date": ""}
    plan_rows = mine["plan"] + [dict(blank_plan) for _ in range(BLANK_PLAN_ROWS)]
    return {
        "may_request_change": True,
        "change_values": {
            **mine,
            "new": mine["new"] + [dict(blank) for _ in range(NEW_LINE_ROWS)],
            "plan": plan_rows if start.left > 0 else [],
            "plan_was": plan_was(start.rows) if mine["plan_was"] is None else mine["plan_was"],
        },
        "change_lines": {str(ln.id): ln for ln in order.lines},
        "products": list(products),
        "plan_start": start,
        "triggers": [t.value for t in PaymentTrigger],
    }


PLAN_REFUSALS = frozenset({FIXED_DATE_MISSING, PLAN_NOT_100, NOTHING_LEFT_TO_PAY})


def error_field(error: Refused) -> str:
    """Which part of the form a refusal is about, to say it there: payment_plan, lines,
    terms (whole-order discount or target total), requested_delivery_date, reason; else
    form (said above it)."""
    template = error.template
    if template in PLAN_REFUSALS or template.startswith(("Installment ", "The payment plan")):
        return "payment_plan"
    if template.startswith("Line "):
        return "lines"
    if "target total" in template or "whole-order discount" in template:
        return "terms"
    if "requested delivery date" in template:
        return "requested_delivery_date"
    if template == "Say why the order changes.":
        return "reason"
    return "form"
