"""The order form's values: from a saved draft, from a posted form, and as the API's draft body."""

from __future__ import annotations

from typing import Any

from models.drafts import DraftOrder
from web.pages.todo_forms import FormFields

EMPTY_LINE_ROWS = 3
LINE_FIELDS = ("product_id", "quantity", "unit_price", "discount_percent")
PLAN_FIELDS = ("percent", "trigger", "offset_days", "fixed_date")


def values_of_draft(draft: DraftOrder) -> dict[str, Any]:
    """Form values from a saved draft."""
    values: dict[str, Any] = {
        "customer_id": str(draft.customer_id),
        "shipping_mode": draft.shipping_mode.value,
        "requested_delivery_date": str(draft.requested_delivery_date or ""),
        "adjustment": "discount"
        if draft.order_discount_percent is not None
        else "target"
        if draft.target_total is not None
        else "none",
        "order_discount_percent": f"{draft.order_discount_percent.normalize():f}"
        if draft.order_discount_percent is not None
        else "",
        "target_total": str(draft.target_total or ""),
        "lines": [
            {
                "product_id": str(ln.product_id),
                "quantity": f"{ln.quantity.normalize():f}",
                "unit_price": f"{ln.unit_price:f}" if ln.unit_price else "",
                "discount_percent": f"{ln.discount_percent.normalize():f}",
            }
            for ln in draft.lines
        ],
        "plan": [
            {
                "percent": f"{p.percent.normalize():f}",
                "trigger": p.trigger.value,
                "offset_days": str(p.offset_days),
                "fixed_date": str(p.fixed_date or ""),
            }
            for p in draft.payment_plan
        ],
    }
    return values


def _rows(form: FormFields, prefix: str, fields: tuple[str, ...]) -> list[dict[str, str]]:
    indexes = sorted(
        {
            int(k.split("-")[1])
            for k in form
            if k.startswith(f"{prefix}-") and k.count("-") == 2 and k.split("-")[1].isdigit()
        }
    )
    return [{f: str(form.get(f"{prefix}-{i}-{f}") or "").strip() for f in fields} for i in indexes]


def values_of_form(form: FormFields) -> dict[str, Any]:
    """Form values as posted."""
    return {
        "customer_id": str(form.get("customer_id") or ""),
        "shipping_mode": str(form.get("shipping_mode") or "domestic"),
        "requested_delivery_date": str(form.get("requested_delivery_date") or ""),
        "adjustment": str(form.get("adjustment") or "none"),
        "order_discount_percent": str(form.get("order_discount_percent") or "").strip(),
        "target_total": str(form.get("target_total") or "").strip(),
        "lines": _rows(form, "lines", LINE_FIELDS),
        "plan": _rows(form, "plan", PLAN_FIELDS),
        "plan_name": str(form.get("plan_name") or "").strip(),
    }


def _line_body(line: dict[str, str]) -> dict[str, str]:
    body = {
        "product_id": line["product_id"],
        "quantity": line["quantity"].replace(",", ""),
        "unit_price": line["unit_price"].replace(",", "") or None,
        "discount_percent": line["discount_percent"] or "0",
    }
    return {k: v for k, v in body.items() if v is not None}


def _installment_body(installment: dict[str, str]) -> dict[str, str | None]:
    return {
        "percent": installment["percent"],
        "trigger": installment["trigger"] or "confirmation",
        "offset_days": installment["offset_days"] or "0",
        "fixed_date": installment["fixed_date"] or None,
    }


def draft_body(values: dict[str, Any]) -> dict[str, Any]:
    """The API body for the form's values (blank rows left out, blank fields defaulted)."""
    body: dict[str, Any] = {
        "customer_id": values["customer_id"] or None,
        "shipping_mode": values["shipping_mode"],
        "requested_delivery_date": values["requested_delivery_date"] or None,
        "lines": [_line_body(ln) for ln in values["lines"] if ln["product_id"]],
        "payment_plan": [_installment_body(p) for p in values["plan"] if p["percent"]],
    }
    if values.get("plan_name"):  # a plan of the policy, chosen by name, instead of the rows
        body["payment_plan"] = []
        body["payment_plan_name"] = values["plan_name"]
    if values["adjustment"] == "discount" and values["order_discount_percent"]:
        body["order_discount_percent"] = values["order_discount_percent"]
    if values["adjustment"] == "target" and values["target_total"]:
        body["target_total"] = values["target_total"].replace(",", "")
    return body


def padded(values: dict[str, Any], extra_lines: int = EMPTY_LINE_ROWS) -> dict[str, Any]:
    """The values with blank rows to type into: extra_lines order lines, and up to three
    installments (a first one of 100% when there is none)."""
    blank_line = dict.fromkeys(LINE_FIELDS, "")
    blank_plan = {"percent": "", "trigger": "confirmation", "offset_days": "0", "fixed_date": ""}
    values["lines"] = [ln for ln in values["lines"] if ln["product_id"]] + [
        dict(blank_line) for _ in range(extra_lines)
    ]
    plan = [p for p in values["plan"] if p["percent"]] or [{**blank_plan, "percent": "100"}]
    values["plan"] = plan + [dict(blank_plan) for _ in range(max(0, 3 - len(plan)))]
    return values


def new_values() -> dict[str, Any]:
    """The values of a new order's empty form."""
    return padded(
        {
            "customer_id": "",
            "shipping_mode": "domestic",
            "requested_delivery_date": "",
            "adjustment": "none",
            "order_discount_percent": "",
            "target_total": "",
            "lines": [],
            "plan": [],
        }
    )
