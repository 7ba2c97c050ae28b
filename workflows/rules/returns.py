"""Returns: how much of each line can still come back, the value of what came back, and what
that does to the order's money (installments, refund, credit note)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from models.domain import InstallmentState, Refusal
from models.domain.returns import (
    MORE_THAN_RETURNABLE,
    NOTHING_DISPATCHED_ON_LINE,
    ReturnLine,
    ReturnMoney,
    quantity_text,
)
from workflows.rules.money import ZERO, money


def returnable(
    dispatched: Mapping[int, Decimal], taken: Mapping[int, Decimal]
) -> dict[int, Decimal]:
    """What can still come back per line: dispatched, less what came back already or is asked
    for in a return still open (never below zero)."""
    return {
        line: max(quantity - taken.get(line, ZERO), ZERO) for line, quantity in dispatched.items()
    }


def return_refusal(lines: Sequence[ReturnLine], room: Mapping[int, Decimal]) -> Refusal | None:
    """A line not dispatched, or more of it than can still come back."""
    for line in lines:
        if line.line_id not in room:
            return Refusal(NOTHING_DISPATCHED_ON_LINE, line=line.line_id)
        if line.quantity > room[line.line_id]:
            return Refusal(
                MORE_THAN_RETURNABLE,
                line=line.line_id,
                quantity=quantity_text(line.quantity),
                room=quantity_text(room[line.line_id]),
            )
    return None


def returned_value(amount: Decimal, quantity: Decimal, *, before: Decimal, now: Decimal) -> Decimal:
    """The value of `now` pieces of a line (its net `amount` for `quantity` pieces) coming back
    after `before` came back already: at the line's net unit price, to the cent, half up. The
    line's value so far is rounded as a whole, so a line that comes back in full, in however
    many receipts, is worth exactly its amount."""
    if quantity <= 0:
        return ZERO
    return money(amount * (before + now) / quantity) - money(amount * before / quantity)


def return_money(
    installments: Sequence[InstallmentState],
    *,
    value: Decimal,
    net_total_before: Decimal,
    paid: Decimal,
    invoiced: Decimal,
) -> ReturnMoney:
    """What a return worth `value` does to the money, in this order: the open part of the
    installments is reduced by it, the latest installment first; money `paid` (received, less
    what is refunded or to be) above the new net total is refunded; `invoiced` (less what is
    credited or to be) above it is credited."""
    net_total = net_total_before - value
    left = value
    reduced: dict[int, Decimal] = {}
    for item in sorted(installments, key=lambda i: i.position, reverse=True):
        cut = min(max(item.open, ZERO), left)
        if cut > 0:
            reduced[item.position] = cut
            left -= cut
    after = [
        i.model_copy(update={"amount": i.amount - reduced[i.position]})
        if i.position in reduced
        else i.model_copy()
        for i in installments
    ]
    return ReturnMoney(
        value=value,
        net_total=net_total,
        installments=after,
        reduced=value - left,
        refund=max(paid - net_total, ZERO),
        credit=max(invoiced - net_total, ZERO),
    )
