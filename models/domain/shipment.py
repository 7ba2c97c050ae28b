"""Fulfilment and acceptance: milestones, dispatch, arrival, exceptions and their steps."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, time
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from models.domain.core import Actor, Refusal, ShippingMode, StepResult


class MilestoneCode(StrEnum):
    picking = "picking"
    dispatch = "dispatch"
    port_departure = "port_departure"
    customs_declaration = "customs_declaration"
    commodity_inspection = "commodity_inspection"
    arrival = "arrival"


class ExceptionKind(StrEnum):
    damaged = "damaged"
    missing_parts = "missing_parts"
    replacement = "replacement"
    reshipment = "reshipment"
    defect = "defect"  # found by service at installation and acceptance, not raised by hand


# What people raise after dispatch (a defect comes from the acceptance to-do).
RAISABLE_EXCEPTIONS = (
    ExceptionKind.damaged,
    ExceptionKind.missing_parts,
    ExceptionKind.replacement,
    ExceptionKind.reshipment,
)


# The milestones of each shipping mode, in the order they happen.
MILESTONES: dict[ShippingMode, tuple[MilestoneCode, ...]] = {
    ShippingMode.domestic: (MilestoneCode.picking, MilestoneCode.dispatch, MilestoneCode.arrival),
    ShippingMode.export: (
        MilestoneCode.picking,
        MilestoneCode.dispatch,
        MilestoneCode.port_departure,
        MilestoneCode.customs_declaration,
        MilestoneCode.commodity_inspection,
        MilestoneCode.arrival,
    ),
}


class PlannedMilestone(BaseModel):
    code: MilestoneCode
    planned_date: date


class MilestoneState(BaseModel):
    """A milestone as the shipment workflow keeps it: planned, done, or late."""

    code: MilestoneCode
    planned_date: date
    actual_date: date | None = None
    late: bool = False


class ShipmentInput(BaseModel):
    order_id: int
    order_number: str
    owner_id: int
    shipping_mode: ShippingMode
    needs_installation: bool
    hold_for_deposit: bool = False
    # The time of day (UTC) by which a milestone must be done on its planned date; None: by
    # the end of that day.
    due_time: time | None = None


class ShipmentResult(BaseModel):
    accepted_on: date | None = None


class PlanShipment(BaseModel):
    """Ops plan every milestone of the order's shipping mode, in their order, none in the
    past."""

    todo_key: str
    actor: Actor
    milestones: list[PlannedMilestone]

    def refusal(self, *, expected: Sequence[MilestoneCode], today: date) -> Refusal | None:
        given = [m.code for m in self.milestones]
        if sorted(given) != sorted(expected) or len(set(given)) != len(given):
            names = ", ".join(code.value for code in expected)
            return Refusal("Plan exactly these milestones, once each: %(names)s.", names=names)
        dates = {m.code: m.planned_date for m in self.milestones}
        for code in expected:
            if dates[code] < today:
                return Refusal(
                    "The %(code)s date %(date)s is in the past.",
                    code=code.value,
                    date=dates[code].isoformat(),
                )
        for before, after in zip(expected, expected[1:], strict=False):
            if dates[after] < dates[before]:
                return Refusal(
                    "The dates are out of order: %(after)s (%(after_date)s) comes before "
                    "%(before)s (%(before_date)s).",
                    after=after.value,
                    after_date=dates[after].isoformat(),
                    before=before.value,
                    before_date=dates[before].isoformat(),
                )
        return None


class MilestoneConfirmation(BaseModel):
    """Ops say a milestone is done; dispatch and arrival are confirmed their own way."""

    actor: Actor
    code: MilestoneCode
    actual_date: date
    todo_key: str | None = None  # the late milestone's to-do, when it is completed that way

    def refusal(self) -> Refusal | None:
        return self.confirmed_its_own_way(self.code)

    @staticmethod
    def confirmed_its_own_way(code: MilestoneCode) -> Refusal | None:
        if code == MilestoneCode.dispatch:
            return Refusal("Dispatch is confirmed by the warehouse, with carrier and tracking.")
        if code == MilestoneCode.arrival:
            return Refusal("Arrival is confirmed by its to-do.")
        return None

    @staticmethod
    def out_of_turn(
        code: MilestoneCode, *, mode: ShippingMode, done: Collection[MilestoneCode]
    ) -> Refusal | None:
        """Milestones are confirmed in the order they happen: the first earlier milestone of
        the shipping mode that is not done yet, as a refusal naming it (the warehouse's
        dispatch confirms picking with it; the customer's arrival link is never refused)."""
        order = MILESTONES[mode]
        for before in order[: order.index(code)] if code in order else ():
            if before not in done:
                return Refusal(
                    "Confirm %(before)s first: it comes before %(code)s and is not done yet.",
                    before=before.value,
                    code=code.value,
                )
        return None


class MilestoneReplan(BaseModel):
    """Ops move a milestone not yet done to a new date, saying why."""

    actor: Actor
    code: MilestoneCode
    planned_date: date
    reason: str

    def refusal(self) -> Refusal | None:
        return None if self.reason.strip() else Refusal("Say why the date moves.")


class ArrivalConfirmation(BaseModel):
    """Ops confirm arrival (their to-do), or the customer's contact through the dispatch mail."""

    actual_date: date
    actor: Actor | None = None
    contact_id: int | None = None
    todo_key: str | None = None


class AcceptanceOutcome(BaseModel):
    """Service say the customer accepted (when, signed by whom) or found a defect (which)."""

    todo_key: str
    actor: Actor
    outcome: Literal["accepted", "defect"]
    accepted_on: date | None = None
    signed_by: str = ""
    comment: str = ""

    def refusal(self) -> Refusal | None:
        if self.outcome == "accepted":
            if self.accepted_on is None or not self.signed_by.strip():
                return Refusal("Give the acceptance date and who signed for the customer.")
        elif not self.comment.strip():
            return Refusal("Describe the defect.")
        return None


class ExceptionReport(BaseModel):
    """Something went wrong after dispatch: what kind, in words."""

    actor: Actor
    kind: ExceptionKind
    description: str

    def refusal(self) -> Refusal | None:
        return None if self.description.strip() else Refusal("Describe what went wrong.")


class ExceptionResolution(BaseModel):
    """Ops say how an exception was resolved, and whether goods ship again."""

    todo_key: str
    actor: Actor
    resolution: str
    reship: bool = False

    def refusal(self) -> Refusal | None:
        if not self.resolution.strip():
            return Refusal("Say how the exception was resolved.")
        return None


class HoldRelease(BaseModel):
    """Ops let a shipment held for its deposit go ahead, saying why."""

    actor: Actor
    reason: str

    def refusal(self) -> Refusal | None:
        return None if self.reason.strip() else Refusal("Say why the hold is released.")


# Activity inputs of the shipment's steps.


class ShipmentStep(BaseModel):
    """What every step of the shipment carries, keyed for idempotency. Each activity takes its
    own input below, with the field names, types and defaults of the one input all shared before
    (a field is required only where the workflow always set it). A step scheduled before carries
    all of that input's fields and is read as the activity's own: pydantic ignores the others."""

    order_id: int
    workflow_id: str
    step_key: str
    actor_id: int | None = None


class StartShipment(ShipmentStep):
    todo_key: str  # ops' plan_shipment to-do, opened by the step


class RecordPlan(ShipmentStep):
    todo_key: str  # ops' plan_shipment to-do, closed by the step
    milestones: list[MilestoneState] = Field(default_factory=list)
    held: bool = False  # waits for the deposit: the warehouse is not asked yet


class ReleaseHold(ShipmentStep):
    reason: str = ""
    open_dispatch: bool = False


class MarkLate(ShipmentStep):
    milestones: list[MilestoneState] = Field(default_factory=list)


class RecordMilestone(ShipmentStep):
    code: MilestoneCode
    actual_date: date
    milestones: list[MilestoneState] = Field(default_factory=list)


class ShipmentChange(BaseModel):
    """An approved change to the order, as its shipment takes it: the timetable is re-planned
    (lines or the delivery date changed before dispatch), and what a line asks beyond what was
    dispatched (per order line id) goes in a new dispatch round."""

    revision: int
    replan: bool = False
    extra_dispatch: dict[int, Decimal] = Field(default_factory=dict)


class OpenReplan(ShipmentStep):
    todo_key: str  # ops' replan_shipment to-do, opened by the step
    revision: int = 0


class ExtraDispatch(ShipmentStep):
    revision: int = 0
    dispatch_round: int = 0
    quantities: dict[int, Decimal] = Field(default_factory=dict)  # order line id -> extra


class ReplanMilestone(ShipmentStep):
    code: MilestoneCode
    planned_date: date
    reason: str = ""


class RecordArrival(ShipmentStep):
    todo_key: str  # ops' confirm_arrival to-do (or the contact's link for it)
    actual_date: date
    contact_id: int | None = None
    dispatch_round: int = 0
    milestones: list[MilestoneState] = Field(default_factory=list)
    open_acceptance: bool = False
    # Earlier milestones not done when the goods arrived (by the customer's link): ops get a
    # confirm_milestone to-do for each, to fill in its actual date.
    backfill: list[MilestoneState] = Field(default_factory=list)


class RecordAcceptance(ShipmentStep):
    todo_key: str  # service's confirm_acceptance to-do
    outcome: str = ""
    actual_date: date | None = None  # the acceptance's date, when accepted
    signed_by: str = ""
    reason: str = ""  # the defect, when not accepted
    number: int = 0  # the defect's exception number within the order
    exception_kind: ExceptionKind | None = None


class RaiseException(ShipmentStep):
    exception_kind: ExceptionKind | None = None
    reason: str = ""
    number: int = 0  # the exception's number within the order


class ResolveException(ShipmentStep):
    todo_key: str  # ops' handle_exception to-do
    reason: str = ""
    reship: bool = False
    dispatch_round: int = 0  # the new dispatch round, when goods go again
    number: int = 0
    open_acceptance: bool = False


class ShipmentStepResult(StepResult):
    delayed: bool | None = None
    exception_number: int | None = None
    problem: str | None = None  # the step was refused and changed nothing (e.g. stock short)
    partial: bool = False  # a dispatch left part of its round: the rest waits for a later one
