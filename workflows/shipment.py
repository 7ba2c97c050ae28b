"""ShipmentWorkflow: an order's fulfilment and acceptance, from the timetable to the customer's
acceptance: ops plan the milestones, the warehouse dispatches (perhaps only once the deposit is
paid), every milestone is watched by a timer on its planned date, the goods arrive, service
confirms installation where needed, and exceptions after dispatch can send goods again."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from models.domain import (
    MILESTONES,
    AcceptanceOutcome,
    ArrivalConfirmation,
    DispatchConfirmation,
    ExceptionKind,
    ExceptionReport,
    ExceptionResolution,
    HoldRelease,
    MilestoneCode,
    MilestoneConfirmation,
    MilestoneReplan,
    MilestoneState,
    PaymentTrigger,
    PlanShipment,
    Role,
    ShipmentInput,
    ShipmentResult,
    ShipmentStep,
    ShipmentStepResult,
    Stage,
    TodoDone,
    TriggerEvent,
)
from workflows.activity_refs import ShipmentSteps, Step
from workflows.refusals import INVALID, NOT_ASSIGNEE, NOT_OPEN, refuse_if
from workflows.steps import StepRunner, TodoBook

OPS_ROLES = {Role.ops, Role.ops_manager}
EXCEPTION_ROLES = {Role.ops, Role.ops_manager, Role.service}
ZERO = timedelta(0)
STAGE_TO_ORDER = "stage-to-order"
DISPATCH_TO_ORDER = "dispatch-to-order"
DEFECT_KIND = "defect-kind"
ShipmentStepT = TypeVar("ShipmentStepT", bound=ShipmentStep)


@workflow.defn
class ShipmentWorkflow:
    @workflow.init
    def __init__(self, shipment: ShipmentInput) -> None:
        self.input = shipment
        self.todos = TodoBook()
        self.steps = StepRunner(self.todos)
        self.milestones: dict[MilestoneCode, MilestoneState] = {}
        self.planned = False
        self.held = shipment.hold_for_deposit
        self.dispatch_asked = 0  # dispatch rounds the warehouse has been asked for
        self.dispatched = 0  # rounds dispatched
        self.arrived = 0  # rounds arrived
        self.accepted_on: date | None = None
        self.exceptions = 0
        self.open_exceptions: set[int] = set()
        self.defect_open = False
        self.delayed = False
        self.changes = 0  # bumped whenever a milestone's dates change: the watcher looks again

    # -- the process ---------------------------------------------------------------------------

    @workflow.signal
    def refresh(self) -> None:
        """Nothing to do: the workflow task it causes brings a worker's cached copy of this
        workflow back in line with its history when a lost workflow task (a server that died
        while an update was being accepted) left the copy ahead of it."""

    @workflow.run
    async def run(self, shipment: ShipmentInput) -> ShipmentResult:
        await self._run(
            ShipmentSteps.start_shipment,
            "started",
            todo_key=f"{self._wid}/plan",
        )
        await workflow.wait_condition(lambda: self.planned)
        watcher = asyncio.create_task(self._watch_milestones())
        if self.dispatch_asked == 0:  # held for the deposit when it was planned
            await workflow.wait_condition(lambda: not self.held)
            if self.dispatch_asked == 0:  # the deposit arrived (a signal, not ops' release)
                self.dispatch_asked = 1
                await self._run(
                    ShipmentSteps.release_hold,
                    "hold-released",
                    reason="deposit paid",
                    open_dispatch=True,
                )
        await workflow.wait_condition(
            lambda: self.accepted_on is not None and not self.open_exceptions
        )
        watcher.cancel()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self.steps.mail_sent()
        return ShipmentResult(accepted_on=self.accepted_on)

    async def _watch_milestones(self) -> None:
        """A timer on each pending milestone's due moment; a milestone not done by then turns
        the order delayed, once per planned date."""
        while True:
            pending = [m for m in self.milestones.values() if m.actual_date is None and not m.late]
            changed = self._changed_since(self.changes)
            if not pending:
                await workflow.wait_condition(changed)
                continue
            due = min(self._due(m) for m in pending)
            try:
                await workflow.wait_condition(changed, timeout=max(due - workflow.now(), ZERO))
                continue
            except TimeoutError:
                pass
            now = workflow.now()
            late = [m for m in pending if self._due(m) <= now and m.actual_date is None]
            if not late:
                continue
            for milestone in late:
                milestone.late = True
            await self._run(
                ShipmentSteps.mark_late,
                "late/" + "+".join(m.code.value for m in late),
                milestones=[m.model_copy() for m in late],
            )
            await self._set_delayed(True)

    def _changed_since(self, seen: int) -> Callable[[], bool]:
        return lambda: self.changes != seen

    def _due(self, milestone: MilestoneState) -> datetime:
        """The moment a milestone is late: its planned date's due time, or the day's end."""
        if self.input.due_time is not None:
            return datetime.combine(milestone.planned_date, self.input.due_time, UTC)
        return datetime.combine(milestone.planned_date + timedelta(days=1), time(0), UTC)

    async def _set_delayed(self, delayed: bool | None) -> None:
        """Tell the order (its Delayed search attribute) when the shipment turns late or
        back on time."""
        if delayed is None or delayed == self.delayed:
            return
        self.delayed = delayed
        parent = workflow.info().parent
        if parent is not None:
            await workflow.get_external_workflow_handle(parent.workflow_id).signal(
                "set_delayed", delayed
            )

    # -- ops plan the timetable ------------------------------------------------------------------

    @workflow.update
    async def plan(self, plan: PlanShipment) -> TodoDone:
        self.todos.take(plan.todo_key, plan.actor)
        if not self.held:
            self.dispatch_asked = 1
        await self._run(
            ShipmentSteps.plan_shipment,
            "planned",
            todo_key=plan.todo_key,
            actor_id=plan.actor.user_id,
            milestones=[
                MilestoneState(code=m.code, planned_date=m.planned_date) for m in plan.milestones
            ],
            held=self.held,
        )
        self.milestones = {
            m.code: MilestoneState(code=m.code, planned_date=m.planned_date)
            for m in plan.milestones
        }
        self.planned = True
        self.changes += 1
        return TodoDone(todo_key=plan.todo_key, stage=Stage.fulfilment)

    @plan.validator
    def validate_plan(self, plan: PlanShipment) -> None:
        self.todos.check(plan.todo_key, plan.actor)
        expected = MILESTONES[self.input.shipping_mode]
        refuse_if(plan.refusal(expected=expected, today=workflow.now().date()))

    # -- the deposit hold ----------------------------------------------------------------------

    @workflow.signal
    def deposit_paid(self) -> None:
        """The collection side: the installments due on confirmation are paid."""
        self.held = False

    @workflow.update
    async def release_hold(self, release: HoldRelease) -> TodoDone:
        open_dispatch = self.planned and self.dispatch_asked == 0
        if open_dispatch:
            self.dispatch_asked = 1
        self.held = False
        await self._run(
            ShipmentSteps.release_hold,
            "hold-released",
            actor_id=release.actor.user_id,
            reason=release.reason.strip(),
            open_dispatch=open_dispatch,
        )
        return TodoDone(todo_key="", stage=Stage.fulfilment)

    @release_hold.validator
    def validate_release_hold(self, release: HoldRelease) -> None:
        if release.actor.role not in OPS_ROLES:
            raise ApplicationError("Only business operations release a hold.", type=NOT_ASSIGNEE)
        if not self.held:
            raise ApplicationError("This shipment is not held.", type=NOT_OPEN)
        refuse_if(release.refusal())

    # -- the warehouse dispatches ----------------------------------------------------------------

    @workflow.update
    async def confirm_dispatch(self, dispatch: DispatchConfirmation) -> TodoDone:
        todo = self.todos.take(dispatch.todo_key, dispatch.actor)
        round_ = self.dispatched + 1
        today = workflow.now().date()
        done = [
            MilestoneState(code=code, planned_date=today, actual_date=today)
            for code in (MilestoneCode.picking, MilestoneCode.dispatch)
            if code in self.milestones
        ]
        result = await self._run(
            ShipmentSteps.dispatch,
            f"dispatch/{round_}",
            todo_key=dispatch.todo_key,
            actor_id=dispatch.actor.user_id,
            carrier=dispatch.carrier.strip(),
            tracking_number=dispatch.tracking_number.strip(),
            dispatch_round=round_,
            actual_date=today,
            milestones=done,
        )
        if result.problem:
            self.todos.add([todo])  # nothing changed: the to-do stays open
            raise ApplicationError(result.problem, type=INVALID)
        self.dispatched = round_
        self._done(done)
        parent = workflow.info().parent
        # Shipments recorded before this patch did not tell the order (installments due on
        # dispatch came later).
        if round_ == 1 and parent is not None and workflow.patched(DISPATCH_TO_ORDER):
            await workflow.get_external_workflow_handle(parent.workflow_id).signal(
                "trigger_happened", TriggerEvent(trigger=PaymentTrigger.dispatch, on=today)
            )
        return TodoDone(todo_key=dispatch.todo_key, stage=Stage.fulfilment)

    @confirm_dispatch.validator
    def validate_confirm_dispatch(self, dispatch: DispatchConfirmation) -> None:
        self.todos.check(dispatch.todo_key, dispatch.actor)
        refuse_if(dispatch.refusal())

    # -- milestones ------------------------------------------------------------------------------

    @workflow.update
    async def confirm_milestone(self, confirmation: MilestoneConfirmation) -> TodoDone:
        if confirmation.todo_key is not None:
            self.todos.take(confirmation.todo_key, confirmation.actor)
        milestone = self.milestones[confirmation.code]
        done = MilestoneState(
            code=milestone.code,
            planned_date=milestone.planned_date,
            actual_date=confirmation.actual_date,
        )
        milestone.actual_date = confirmation.actual_date
        result = await self._run(
            ShipmentSteps.confirm_milestone,
            f"milestone/{confirmation.code.value}",
            actor_id=confirmation.actor.user_id,
            code=confirmation.code,
            actual_date=confirmation.actual_date,
            milestones=[done],
        )
        self.changes += 1
        await self._set_delayed(result.delayed)
        return TodoDone(todo_key=confirmation.todo_key or "", stage=Stage.fulfilment)

    @confirm_milestone.validator
    def validate_confirm_milestone(self, confirmation: MilestoneConfirmation) -> None:
        if confirmation.todo_key is not None:
            self.todos.check(confirmation.todo_key, confirmation.actor)
        elif confirmation.actor.role not in OPS_ROLES:
            raise ApplicationError(
                "Only business operations confirm milestones.", type=NOT_ASSIGNEE
            )
        milestone = self._planned(confirmation.code)
        refuse_if(confirmation.refusal())
        if milestone.actual_date is not None:
            raise ApplicationError(
                f"The {confirmation.code.value} milestone is already confirmed.", type=NOT_OPEN
            )
        if confirmation.actual_date > workflow.now().date():
            raise ApplicationError("The actual date cannot be in the future.", type=INVALID)

    @workflow.update
    async def replan_milestone(self, replan: MilestoneReplan) -> TodoDone:
        milestone = self.milestones[replan.code]
        result = await self._run(
            ShipmentSteps.replan_milestone,
            f"replan/{replan.code.value}/{replan.planned_date.isoformat()}",
            actor_id=replan.actor.user_id,
            code=replan.code,
            planned_date=replan.planned_date,
            reason=replan.reason.strip(),
        )
        milestone.planned_date = replan.planned_date
        milestone.late = False
        self.changes += 1  # the timer moves
        await self._set_delayed(result.delayed)
        return TodoDone(todo_key="", stage=Stage.fulfilment)

    @replan_milestone.validator
    def validate_replan_milestone(self, replan: MilestoneReplan) -> None:
        if replan.actor.role not in OPS_ROLES:
            raise ApplicationError(
                "Only business operations re-plan milestones.", type=NOT_ASSIGNEE
            )
        milestone = self._planned(replan.code)
        if milestone.actual_date is not None:
            raise ApplicationError(
                f"The {replan.code.value} milestone is already done.", type=NOT_OPEN
            )
        refuse_if(replan.refusal())
        if replan.planned_date < workflow.now().date():
            raise ApplicationError("The new date is in the past.", type=INVALID)
        order = MILESTONES[self.input.shipping_mode]
        position = order.index(replan.code)
        for before in order[:position]:
            other = self.milestones[before]
            if (other.actual_date or other.planned_date) > replan.planned_date:
                raise ApplicationError(
                    f"The new date is before the {before.value} date.", type=INVALID
                )
        for after in order[position + 1 :]:
            other = self.milestones[after]
            if other.actual_date is None and other.planned_date < replan.planned_date:
                raise ApplicationError(
                    f"The new date is after the {after.value} date; re-plan that first.",
                    type=INVALID,
                )

    @staticmethod
    def _defect_kind() -> ExceptionKind:
        """A defect at acceptance is an exception of its own kind (shipments recorded before
        this patch called it damaged)."""
        return ExceptionKind.defect if workflow.patched(DEFECT_KIND) else ExceptionKind.damaged

    def _planned(self, code: MilestoneCode) -> MilestoneState:
        if not self.planned:
            raise ApplicationError("The shipment is not planned yet.", type=NOT_OPEN)
        milestone = self.milestones.get(code)
        if milestone is None:
            raise ApplicationError(f"This shipment has no {code.value} milestone.", type=INVALID)
        return milestone

    def _done(self, done: list[MilestoneState]) -> None:
        for state in done:
            milestone = self.milestones.get(state.code)
            if milestone is not None and milestone.actual_date is None:
                milestone.actual_date = state.actual_date
        self.changes += 1

    # -- arrival and acceptance ------------------------------------------------------------------

    @workflow.update
    async def confirm_arrival(self, arrival: ArrivalConfirmation) -> TodoDone:
        round_ = self.dispatched
        todo_key = f"{self._wid}/arrival/{round_}"
        if todo_key in self.todos:
            self.todos.discard(todo_key)
        self.arrived = round_
        needs_acceptance = self.input.needs_installation
        done = [
            MilestoneState(
                code=MilestoneCode.arrival,
                planned_date=arrival.actual_date,
                actual_date=arrival.actual_date,
            )
        ]
        result = await self._run(
            ShipmentSteps.confirm_arrival,
            f"arrival/{round_}",
            todo_key=todo_key,
            actor_id=arrival.actor.user_id if arrival.actor else None,
            contact_id=arrival.contact_id,
            actual_date=arrival.actual_date,
            dispatch_round=round_,
            milestones=done,
            open_acceptance=needs_acceptance,
        )
        self._done(done)
        await self._set_delayed(result.delayed)
        if needs_acceptance:
            # Shipments recorded before this patch left the order's Stage at fulfilment.
            parent = workflow.info().parent
            if parent is not None and workflow.patched(STAGE_TO_ORDER):
                await workflow.get_external_workflow_handle(parent.workflow_id).signal(
                    "enter_stage", Stage.acceptance
                )
            return TodoDone(todo_key=todo_key, stage=Stage.acceptance)
        self.accepted_on = arrival.actual_date
        return TodoDone(todo_key=todo_key, stage=Stage.collection)

    @confirm_arrival.validator
    def validate_confirm_arrival(self, arrival: ArrivalConfirmation) -> None:
        if self.dispatched == 0 or self.arrived >= self.dispatched:
            raise ApplicationError("Nothing is on its way to this customer.", type=NOT_OPEN)
        if arrival.contact_id is None:
            if arrival.actor is None or arrival.todo_key is None:
                raise ApplicationError("Arrival is confirmed by its to-do.", type=NOT_ASSIGNEE)
            self.todos.check(arrival.todo_key, arrival.actor)
        if arrival.actual_date > workflow.now().date():
            raise ApplicationError("The arrival date cannot be in the future.", type=INVALID)
        dispatched_on = self.milestones.get(MilestoneCode.dispatch)
        if (
            dispatched_on
            and dispatched_on.actual_date
            and arrival.actual_date < (dispatched_on.actual_date)
        ):
            raise ApplicationError("The goods cannot arrive before they left.", type=INVALID)

    @workflow.update
    async def confirm_acceptance(self, acceptance: AcceptanceOutcome) -> TodoDone:
        self.todos.take(acceptance.todo_key, acceptance.actor)
        accepted = acceptance.outcome == "accepted"
        number = self.exceptions + 1
        if not accepted:
            self.exceptions = number
            self.open_exceptions.add(number)
            self.defect_open = True
        await self._run(
            ShipmentSteps.record_acceptance,
            f"acceptance/{acceptance.todo_key.rsplit('/', 1)[1]}",
            todo_key=acceptance.todo_key,
            actor_id=acceptance.actor.user_id,
            outcome=acceptance.outcome,
            actual_date=acceptance.accepted_on,
            signed_by=acceptance.signed_by.strip(),
            reason=acceptance.comment.strip(),
            number=number,
            exception_kind=None if accepted else self._defect_kind(),
        )
        if accepted:
            self.accepted_on = acceptance.accepted_on
            return TodoDone(todo_key=acceptance.todo_key, stage=Stage.collection)
        return TodoDone(todo_key=acceptance.todo_key, stage=Stage.acceptance)

    @confirm_acceptance.validator
    def validate_confirm_acceptance(self, acceptance: AcceptanceOutcome) -> None:
        self.todos.check(acceptance.todo_key, acceptance.actor)
        refuse_if(acceptance.refusal())
        if acceptance.accepted_on is not None and acceptance.accepted_on > workflow.now().date():
            raise ApplicationError("The acceptance date cannot be in the future.", type=INVALID)

    # -- exceptions after dispatch ---------------------------------------------------------------

    @workflow.update
    async def raise_exception(self, report: ExceptionReport) -> TodoDone:
        self.exceptions += 1
        number = self.exceptions
        self.open_exceptions.add(number)
        await self._run(
            ShipmentSteps.raise_exception,
            f"exception/{number}",
            actor_id=report.actor.user_id,
            exception_kind=report.kind,
            reason=report.description.strip(),
            number=number,
        )
        return TodoDone(todo_key=f"{self._wid}/exception/{number}", stage=Stage.fulfilment)

    @raise_exception.validator
    def validate_raise_exception(self, report: ExceptionReport) -> None:
        if report.actor.role not in EXCEPTION_ROLES and report.actor.user_id != self.input.owner_id:
            raise ApplicationError(
                "Exceptions are raised by operations, service or the order's owner.",
                type=NOT_ASSIGNEE,
            )
        if self.dispatched == 0:
            raise ApplicationError("Nothing has been dispatched yet.", type=NOT_OPEN)
        if self.accepted_on is not None:
            raise ApplicationError("The customer has accepted the order.", type=NOT_OPEN)
        refuse_if(report.refusal())

    @workflow.update
    async def handle_exception(self, resolution: ExceptionResolution) -> TodoDone:
        self.todos.take(resolution.todo_key, resolution.actor)
        number = int(resolution.todo_key.rsplit("/", 1)[1])
        recheck = self.defect_open and not resolution.reship and self.input.needs_installation
        reship_round = self.dispatch_asked + 1 if resolution.reship else 0
        if resolution.reship:
            self.dispatch_asked = reship_round
        await self._run(
            ShipmentSteps.resolve_exception,
            f"exception/{number}/resolved",
            todo_key=resolution.todo_key,
            actor_id=resolution.actor.user_id,
            reason=resolution.resolution.strip(),
            reship=resolution.reship,
            dispatch_round=reship_round,
            number=number,
            open_acceptance=recheck,
        )
        self.open_exceptions.discard(number)
        if recheck or resolution.reship:
            self.defect_open = False
        return TodoDone(todo_key=resolution.todo_key, stage=Stage.fulfilment)

    @handle_exception.validator
    def validate_handle_exception(self, resolution: ExceptionResolution) -> None:
        self.todos.check(resolution.todo_key, resolution.actor)
        refuse_if(resolution.refusal())

    # -- helpers ---------------------------------------------------------------------------------

    @property
    def _wid(self) -> str:
        return workflow.info().workflow_id

    async def _run(
        self, step: Step[ShipmentStepT, ShipmentStepResult], name: str, **fields: Any
    ) -> ShipmentStepResult:
        """Run one of the shipment's steps: its own input, keyed by the step's name."""
        return await self.steps.run(
            step,
            step.arg_type(
                order_id=self.input.order_id,
                workflow_id=self._wid,
                step_key=f"{self._wid}/{name}",
                **fields,
            ),
        )
