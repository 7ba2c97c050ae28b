"""The order page's "Request a return" form: the lines that can still come back with how many,
what was typed, the request it makes, and where a refusal is said (next to its line, the
lines, the reason, or on top)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from i18n import N_
from models.domain.returns import (
    MORE_THAN_RETURNABLE,
    NO_RETURN_LINES,
    NO_RETURN_REASON,
    NOTHING_DISPATCHED_ON_LINE,
    RETURN_LINE_TWICE,
    RETURN_QUANTITY_NOT_POSITIVE,
)
from models.queries.returns import dispatched_by_line, returnable_by_line
from models.tables import Order, User
from web.commands import returns
from web.commands.actions import Refused
from web.forms.errors import invalid_input
from web.schemas.returns import ReturnLineIn, ReturnRequestIn

NOT_A_QUANTITY = N_("%(product)s: “%(quantity)s” is not a quantity.")
# The refusals about one line, said next to it (their `line` is the order line's id).
LINE_REFUSALS = frozenset(
    {
        MORE_THAN_RETURNABLE,
        NOTHING_DISPATCHED_ON_LINE,
        RETURN_LINE_TWICE,
        RETURN_QUANTITY_NOT_POSITIVE,
    }
)


async def return_form(*, session: AsyncSession, user: User, order: Order) -> dict[str, Any]:
    """The form for whoever may ask for a return of this order now, with the lines that can
    still come back (the command checks again when the form comes back)."""
    if await returns.return_refusal(session=session, user=user, order=order) is not None:
        return {"may_request_return": False, "returnable": []}
    dispatched = await dispatched_by_line(session=session, order=order)
    room = await returnable_by_line(session=session, order=order)
    rows = [
        {
            "line_id": line.id,
            "product_code": line.product.code,
            "product_name": line.product.name,
            "unit": line.product.unit,
            "dispatched": dispatched[line.id],
            "room": room[line.id],
        }
        for line in order.lines
        if room.get(line.id, Decimal(0)) > 0
    ]
    return {"may_request_return": bool(rows), "returnable": rows}


def values_of_form(form: FormData) -> dict[str, Any]:
    """What was typed: each line's quantity by its line id, and the reason."""
    quantities: dict[str, str] = {}
    for key in form:
        parts = key.split("-")
        if len(parts) == 3 and parts[0] == "line" and parts[2] == "id":
            line_id = str(form.get(key) or "").strip()
            quantities[line_id] = str(form.get(f"line-{parts[1]}-quantity") or "").strip()
    return {"form": "return", "quantities": quantities, "reason": str(form.get("reason") or "")}


def request_of(values: dict[str, Any], order: Order) -> ReturnRequestIn:
    """The request the form makes: every line given a quantity (a blank one left out); 422
    next to the line when a quantity is not a number."""
    codes = {str(line.id): line.product.code for line in order.lines}
    lines = []
    for line_id, typed in values["quantities"].items():
        if not typed:
            continue
        try:
            quantity = Decimal(typed.replace(",", ""))
            if not quantity.is_finite():
                raise InvalidOperation(typed)
            lines.append(ReturnLineIn(line_id=int(line_id), quantity=quantity))
        except (InvalidOperation, ValueError, ValidationError) as error:
            raise Refused(
                422,
                NOT_A_QUANTITY,
                product=codes.get(line_id, line_id),
                quantity=typed,
                line=line_id,
            ) from error
    try:
        return ReturnRequestIn(lines=lines, reason=values["reason"])
    except ValidationError as error:
        raise invalid_input(error) from error


def error_field(error: Refused) -> str:
    """Where the form says the refusal: next to its line, the lines, the reason, or on top."""
    if error.template in LINE_REFUSALS or error.template == NOT_A_QUANTITY:
        return f"line-{error.params.get('line')}"
    if error.template == NO_RETURN_LINES:
        return "lines"
    if error.template == NO_RETURN_REASON:
        return "reason"
    return "form"
