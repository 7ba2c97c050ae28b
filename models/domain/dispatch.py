"""The warehouse's dispatch: all that remains of a round, or some lines and quantities now and
the rest in a later round (a partial dispatch), each on the date it happened."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from models.domain.core import Actor, Refusal
from models.domain.shipment import MilestoneState, ShipmentStep

# The refusals of a dispatch's lines and date (checked by the web against the order's records,
# and again by the workflow's validator where it can).
DISPATCH_NEGATIVE = "Line %(line)s: the quantity to dispatch cannot be negative."
DISPATCH_NOTHING = "Give a quantity to dispatch for at least one line."
DISPATCH_LINE_TWICE = "Line %(line)s is given twice."
DISPATCH_NOT_ON_ORDER = "Line %(line)s is not a line of this order."
DISPATCH_MORE_THAN_REMAINS = "Line %(line)s: only %(remaining)s is left to dispatch."
DISPATCH_IN_FUTURE = "The dispatch date cannot be in the future."
DISPATCH_BEFORE_CONFIRMATION = (
    "The dispatch date cannot be before the order was confirmed (%(confirmed_on)s)."
)


class DispatchLine(BaseModel):
    """How much of an order line leaves in this dispatch."""

    line_id: int
    quantity: Decimal = Field(max_digits=15, decimal_places=3)


class DispatchConfirmation(BaseModel):
    """The warehouse says the goods left, with whom, under which tracking number and on which
    day; `lines` (per order line, what left) when only part of the round left: the rest waits
    for a later round. Without lines, all that remains of the round left."""

    todo_key: str
    actor: Actor
    carrier: str
    tracking_number: str
    dispatched_on: date | None = None  # None: sent before dates were asked (the day it came)
    lines: list[DispatchLine] | None = None

    def refusal(self) -> Refusal | None:
        if not self.carrier.strip():
            return Refusal("Name the carrier.")
        if not self.tracking_number.strip():
            return Refusal("Give the tracking number.")
        return self.lines_refusal()

    def lines_refusal(self) -> Refusal | None:
        if self.lines is None:
            return None
        seen: set[int] = set()
        for line in self.lines:
            if line.quantity < 0:
                return Refusal(DISPATCH_NEGATIVE, line=line.line_id)
            if line.line_id in seen:
                return Refusal(DISPATCH_LINE_TWICE, line=line.line_id)
            seen.add(line.line_id)
        if not any(line.quantity > 0 for line in self.lines):
            return Refusal(DISPATCH_NOTHING)
        return None

    def date_refusal(self, *, today: date, confirmed_on: date | None) -> Refusal | None:
        """Refused: a dispatch date in the future, or before the order was confirmed."""
        if self.dispatched_on is None:
            return None
        if self.dispatched_on > today:
            return Refusal(DISPATCH_IN_FUTURE)
        if confirmed_on is not None and self.dispatched_on < confirmed_on:
            return Refusal(DISPATCH_BEFORE_CONFIRMATION, confirmed_on=confirmed_on.isoformat())
        return None


def quantities_refusal(
    lines: Mapping[int, Decimal], remaining: Mapping[int, Decimal]
) -> Refusal | None:
    """Refused: a line that is not the order's (not in `remaining`, what is left of each line
    in the round), or more of a line than is left."""
    for line_id, quantity in lines.items():
        if line_id not in remaining:
            return Refusal(DISPATCH_NOT_ON_ORDER, line=line_id)
        if quantity > remaining[line_id]:
            return Refusal(
                DISPATCH_MORE_THAN_REMAINS,
                line=line_id,
                remaining=f"{remaining[line_id].normalize():f}",
            )
    return None


class RecordDispatch(ShipmentStep):
    todo_key: str  # the warehouse's confirm_dispatch to-do
    carrier: str = ""
    tracking_number: str = ""
    dispatch_round: int = 0
    actual_date: date | None = None
    milestones: list[MilestoneState] = Field(default_factory=list)  # picking and dispatch done
    # A partial dispatch: what left per order line id (None: everything the round reserved),
    # and the round the rest is reserved for and asked of the warehouse in.
    lines: dict[int, Decimal] | None = None
    rest_round: int = 0


def dispatched_per_line(taken: Iterable[tuple[int, int, Decimal]]) -> dict[int, Decimal]:
    """What left the warehouse per order line, from its taken reservations as (line id, the
    round they belong to, quantity): the parts of a partially dispatched round add up; a round
    of its own (a reshipment) replaces goods that went wrong, so the largest round counts."""
    rounds: dict[tuple[int, int], Decimal] = {}
    for line_id, round_, quantity in taken:
        rounds[line_id, round_] = rounds.get((line_id, round_), Decimal("0")) + quantity
    dispatched: dict[int, Decimal] = {}
    for (line_id, _), quantity in rounds.items():
        dispatched[line_id] = max(dispatched.get(line_id, Decimal("0")), quantity)
    return dispatched
