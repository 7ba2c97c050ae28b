"""A to-do's form read into the completion its kind's body describes: every field of the body
by its own name (a box ticked for a yes/no, an amount for a sum), and the few that a form spells
over several inputs (planned milestones, cost items, unit costs) by their readers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, get_args

from pydantic import ValidationError
from starlette.datastructures import UploadFile

from i18n import N_
from web.commands.actions import Refused
from web.commands.completion import CostItemIn, TodoCompletion
from web.forms.errors import FIELD_NAMES, Located, in_entry, invalid_input, not_a_number
from web.schemas.todos import COMPLETIONS

# The actual-cost forms (on the to-do page and the order page): this many item rows.
COST_ROWS = 5
ITEM_FIELDS = ("category", "amount", "reference")
# A cost item's fields by the inputs of its row (item-<n>-<input>).
ITEM_INPUTS = {
    "category": "category",
    "amount": "amount",
    "supplier_payment_reference": "reference",
}
# A submitted form's fields by name: the form itself, or the values typed into it.
FormFields = Mapping[str, str | UploadFile]
# Every completion has these; the rest are its kind's.
COMMON = frozenset({"kind", "outcome", "comment"})
NOT_A_RECEIVED_QUANTITY = N_("Line %(line)s: “%(quantity)s” is not a quantity.")
# The cost batch's refusals about one item (models.domain costs), by the item's input.
COST_ITEM_REFUSALS: Located = {
    "Item %(number)s: the amount must be more than zero.": lambda p: f"item-{p['number']}-amount",
    "Item %(number)s: give the supplier payment reference.": lambda p: (
        f"item-{p['number']}-reference"
    ),
    "Item %(number)s: supplier payment %(reference)s is given twice.": lambda p: (
        f"item-{p['number']}-reference"
    ),
    "Item %(number)s: supplier payment %(reference)s is already recorded as %(category)s for "
    "this order.": lambda p: f"item-{p['number']}-reference",
    "Item %(number)s: the category must be one of: %(allowed)s.": lambda p: (
        f"item-{p['number']}-category"
    ),
}


def completion_from_form(kind: str, form: FormFields) -> TodoCompletion:
    """The completion from the to-do's form fields; 422 with a message when a number or a
    date is bad (the kind's declaration checks the rest)."""
    body = COMPLETIONS[kind]
    outcomes = get_args(body.model_fields["outcome"].annotation)
    given: dict[str, Any] = {
        "outcome": _field(form, "outcome") or (outcomes[0] if len(outcomes) == 1 else ""),
        "comment": str(form.get("comment") or ""),
    }
    for name, info in body.model_fields.items():
        if name in COMMON:
            continue
        if name in READERS:
            given[name] = READERS[name](form)
        elif info.annotation is bool:
            given[name] = is_ticked(form, name)
        elif info.annotation is Decimal:
            given[name] = _amount(form, name)
        elif value := _field(form, name):
            given[name] = value  # a blank one keeps its default: the check says what is missing
    try:
        return TodoCompletion.model_validate(given)
    except ValidationError as error:
        raise invalid_input(error) from error


def _field(form: FormFields, name: str) -> str:
    return str(form.get(name) or "").strip()


def is_ticked(form: FormFields, name: str) -> bool:
    return _field(form, name) in ("1", "on", "true")


def _amount(form: FormFields, name: str) -> Decimal:
    raw = str(form.get(name) or "0").replace(",", "").strip() or "0"
    field = FIELD_NAMES.get(name.partition("-")[0], name)  # unit_cost-<line>: "unit cost"
    try:
        value = Decimal(raw)
    except InvalidOperation as error:
        raise not_a_number(name, field=field) from error
    if not value.is_finite():
        raise not_a_number(name, field=field)
    if value < 0:
        raise not_a_number(name, field=field, negative=True)
    return value


def _planned_milestones(form: FormFields) -> list[dict[str, str | None]]:
    """plan_shipment: a date per milestone, in fields named planned-<code>."""
    return [
        {"code": key.removeprefix("planned-"), "planned_date": _field(form, key) or None}
        for key in form
        if key.startswith("planned-")
    ]


def _unit_costs(form: FormFields) -> list[dict[str, Any]]:
    """estimate_cost: a unit cost per order line, in fields named unit_cost-<line id> (a line
    a change request adds: unit_cost--1, unit_cost--2, ...)."""
    return [
        {"line_id": int(key.removeprefix("unit_cost-")), "unit_cost": _amount(form, key)}
        for key in form
        if key.startswith("unit_cost-")
        and key.removeprefix("unit_cost-").removeprefix("-").isdigit()
    ]


def cost_rows(form: FormFields) -> list[dict[str, str]]:
    """The actual-cost rows of a form (item-N-category, item-N-amount, item-N-reference) in
    their order, blank rows left out."""
    numbers = sorted(
        {
            int(parts[1])
            for key in form
            if len(parts := key.split("-")) == 3 and parts[0] == "item" and parts[1].isdigit()
        }
    )
    rows = [{f: str(form.get(f"item-{n}-{f}") or "").strip() for f in ITEM_FIELDS} for n in numbers]
    return [row for row in rows if any(row.values())]


def shown_cost_rows(form: FormFields) -> list[dict[str, str]]:
    """The rows to show: those typed first (so that a refusal's "Item 2" is the second row),
    then blank ones."""
    rows = cost_rows(form)
    return rows + [dict.fromkeys(ITEM_FIELDS, "") for _ in range(COST_ROWS - len(rows))]


def cost_items_of(rows: list[dict[str, str]]) -> list[CostItemIn]:
    """The items of the rows; 422 naming the item when an amount is not a number (the operation
    checks the rest)."""
    items = []
    for number, row in enumerate(rows, start=1):
        raw = row["amount"].replace(",", "").replace(" ", "")
        try:
            amount = Decimal(raw) if raw else None
            if amount is not None and not amount.is_finite():
                raise InvalidOperation(raw)
        except InvalidOperation as error:
            raise Refused(
                422,
                "Item %(number)s: “%(amount)s” is not an amount.",
                number=number,
                amount=row["amount"],
                at=f"item-{number}-amount",
            ) from error
        try:
            items.append(
                CostItemIn(
                    category=row["category"],
                    amount=amount,
                    supplier_payment_reference=row["reference"],
                )
            )
        except ValidationError as error:
            problem = invalid_input(error)
            name = ITEM_INPUTS.get(str(problem.loc[-1]), "amount") if problem.loc else "amount"
            raise in_entry(problem, "items", number - 1, at=f"item-{number}-{name}") from error
    return items


def _received_lines(form: FormFields) -> list[dict[str, Any]]:
    """receive_return: per line the quantity received in each condition, in fields named
    received-<line id>-restock and received-<line id>-scrap (blank or zero: none); 422 next to
    the line when one is not a number."""
    received = []
    for key in form:
        parts = key.split("-")
        if len(parts) != 3 or parts[0] != "received" or not parts[1].isdigit():
            continue
        raw = _field(form, key).replace(",", "")
        try:
            quantity = Decimal(raw or "0")
            if not quantity.is_finite():
                raise InvalidOperation(raw)
        except InvalidOperation as error:
            raise Refused(422, NOT_A_RECEIVED_QUANTITY, line=parts[1], quantity=raw) from error
        if quantity != 0:
            received.append({"line_id": int(parts[1]), "quantity": quantity, "condition": parts[2]})
    return received


def _dispatch_lines(form: FormFields) -> list[dict[str, Any]] | None:
    """confirm_dispatch: per line the quantity leaving now, in fields named dispatch-<line id>
    (blank: none of it); None when the form has none (all that remains leaves). 422 next to
    the line when one is not a number."""
    lines = []
    for key in form:
        line = key.removeprefix("dispatch-")
        if line == key or not line.isdigit():
            continue
        raw = _field(form, key).replace(",", "")
        try:
            quantity = Decimal(raw or "0")
            if not quantity.is_finite():
                raise InvalidOperation(raw)
        except InvalidOperation as error:
            raise Refused(422, NOT_A_RECEIVED_QUANTITY, line=line, quantity=raw) from error
        lines.append({"line_id": int(line), "quantity": quantity})
    return lines or None


# The fields a form spells over several inputs, by the completion field they fill.
READERS: dict[str, Callable[[FormFields], Any]] = {
    "milestones": _planned_milestones,
    "items": lambda form: cost_items_of(cost_rows(form)),
    "lines": _unit_costs,
    "received": _received_lines,
    "dispatch_lines": _dispatch_lines,
}
