"""ApprovalWorkflow: one approval round of an order, stage by stage, each stage decided in
parallel; a rejection ends the round and sends the order back to its owner. An undecided
approval is reminded when its SLA passes and escalated to the assignee's manager at twice it."""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from models.domain import (
    OWN_ORDER,
    REJECTED_WITHOUT_REASON,
    SIDE_ROUND_KINDS,
    ApprovalOutcome,
    ApprovalRoundInput,
    Decision,
    OpenStage,
    RecordDecision,
    RouteStage,
    TodoDone,
    TodoKind,
    TodoReminder,
)
from models.domain.changes import OWN_CHANGE
from models.domain.returns import OWN_RETURN
from workflows import rules
from workflows.activity_refs import ApprovalSteps
from workflows.refusals import SELF_APPROVAL, refuse_if
from workflows.steps import StepRunner, TodoBook

ZERO = timedelta(0)


@workflow.defn
class ApprovalWorkflow:
    @workflow.init
    def __init__(self, round_input: ApprovalRoundInput) -> None:
        self.todos = TodoBook()
        self.steps = StepRunner(self.todos)
        self.input = round_input
        self.pending: set[str] = set()
        self.stage_position = 0
        self.rejected = False
        self.withdrawn = False  # the order is being cancelled
        self.outcome: ApprovalOutcome | None = None
        self.confirmed = False
        self.approvers: list[int] = []  # who approved (a change's round: told what changed)
        # Stages whose to-dos the step before already opened. The first stage's are known from
        # the start, so a decision that arrives with the round's first task is taken.
        self.opened_early: dict[int, set[str]] = {}
        if round_input.first_stage_opened is not None and round_input.stages:
            self.todos.add(round_input.first_stage_opened)
            first = round_input.stages[0].position
            self.opened_early[first] = {todo.key for todo in round_input.first_stage_opened}

    @workflow.signal
    def refresh(self) -> None:
        """Nothing to do: the workflow task it causes brings a worker's cached copy of this
        workflow back in line with its history when a lost workflow task (a server that died
        while an update was being accepted) left the copy ahead of it."""

    @workflow.signal
    def withdraw(self) -> None:
        """The order is being cancelled: the round ends undecided (the order's cancellation
        step cancels its to-dos). Too late once the last approval confirmed the order."""
        if not self.confirmed:
            self.withdrawn = True
            self.todos.discard_all()

    @workflow.run
    async def run(self, round_input: ApprovalRoundInput) -> ApprovalOutcome:
        # Rounds started before reminders existed wait without timers.
        with_sla = workflow.patched("approval-sla")
        for stage in round_input.stages:
            self.stage_position = stage.position
            if stage.position in self.opened_early:
                self.pending = self.opened_early.pop(stage.position)
            else:
                opened = await self.steps.run(ApprovalSteps.open_stage, self._opening(stage))
                self.pending = {todo.key for todo in opened.opened}
            if with_sla:
                await self._decided_or_chased(stage)
            else:
                await workflow.wait_condition(self._stage_decided)
            if self.rejected or self.withdrawn:
                break
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self.steps.mail_sent()
        if self.withdrawn and self.outcome is None and not self.confirmed:
            return ApprovalOutcome(approved=False, withdrawn=True)
        return self.outcome or ApprovalOutcome(
            approved=True, confirmed=self.confirmed, approver_ids=self.approvers
        )

    def _opening(self, stage: RouteStage) -> OpenStage:
        return OpenStage(
            order_id=self.input.order_id,
            workflow_id=workflow.info().workflow_id,
            order_workflow_id=self._order_workflow_id,
            round_number=self.input.round_number,
            policy_version=self.input.policy_version,
            stage=stage,
            facts=self.input.facts,
            todo_kind=self.input.todo_kind,
            requested_by_id=self.input.requester_id,
            listed_as=self.input.listed_as,
        )

    def _stage_after(self, position: int) -> RouteStage | None:
        return next((s for s in self.input.stages if s.position > position), None)

    def _stage_decided(self) -> bool:
        return not self.pending or self.rejected or self.withdrawn

    async def _decided_or_chased(self, stage: RouteStage) -> None:
        """Wait for the stage's decisions; whoever passes their SLA is reminded, and at twice
        the SLA their manager is added to the to-do."""
        wid = workflow.info().workflow_id
        opened_at = workflow.now()
        sla = {
            rules.approval_todo_key(wid, stage.position, r.code): r.sla_days
            for r in stage.requirements
        }
        reminded: set[str] = set()
        escalated: set[str] = set()
        while not self._stage_decided():
            chases: list[tuple[datetime, str, str]] = []
            for key in sorted(self.pending):
                days = sla.get(key, 1)
                if key not in reminded:
                    chases.append((rules.add_working_days(opened_at, days), "remind", key))
                elif key not in escalated:
                    chases.append((rules.add_working_days(opened_at, 2 * days), "escalate", key))
            if not chases:
                await workflow.wait_condition(self._stage_decided)
                return
            next_chase = min(at for at, _, _ in chases)
            try:
                await workflow.wait_condition(
                    self._stage_decided, timeout=max(next_chase - workflow.now(), ZERO)
                )
                return
            except TimeoutError:
                pass
            now = workflow.now()
            due: dict[str, list[str]] = {kind: [] for kind in ("remind", "escalate")}
            for at, kind, key in chases:
                if at <= now and key in self.pending:
                    due[kind].append(key)
            if due["remind"]:
                await self.steps.run(
                    ApprovalSteps.remind_approvers, self._chase(due["remind"], sla)
                )
                reminded.update(due["remind"])
            if due["escalate"]:
                result = await self.steps.run(
                    ApprovalSteps.escalate_approvals, self._chase(due["escalate"], sla)
                )
                for key, managers in result.added.items():
                    self.todos.add_assignees(key, managers)
                escalated.update(due["escalate"])

    def _chase(self, keys: list[str], sla: dict[str, int]) -> TodoReminder:
        return TodoReminder(
            order_id=self.input.order_id,
            todo_keys=keys,
            owner_id=self.input.owner_id,
            sla_days={key: sla.get(key, 1) for key in keys},
        )

    @property
    def _order_workflow_id(self) -> str:
        parent = workflow.info().parent
        return parent.workflow_id if parent else ""

    @workflow.update
    async def decide(self, decision: Decision) -> TodoDone:
        self.todos.take(decision.todo_key, decision.actor)
        rejecting = decision.outcome == "reject"
        # One step per decision (rounds that carry how to confirm the order): the decision that
        # passes a stage opens the next one, and the last one confirms the order, in its own
        # step. The stage counts as passed only once that step is done.
        passes_stage = (
            not rejecting and self.input.confirm is not None and self.pending == {decision.todo_key}
        )
        if not passes_stage:
            self.pending.discard(decision.todo_key)
        if rejecting:
            self.rejected = True
            self.todos.discard_all()
        last_stage = self.input.stages[-1].position
        next_stage = self._stage_after(self.stage_position) if passes_stage else None
        revise_key = f"{self._order_workflow_id}/revise/{self.input.round_number}"
        result = await self.steps.run(
            ApprovalSteps.record_decision,
            RecordDecision(
                order_id=self.input.order_id,
                round_number=self.input.round_number,
                todo_key=decision.todo_key,
                actor_id=decision.actor.user_id,
                outcome=decision.outcome,
                comment=decision.comment,
                round_approved=(
                    not rejecting
                    and (passes_stage or not self.pending)
                    and self.stage_position == last_stage
                ),
                revise_todo_key=revise_key,
                order_workflow_id=self._order_workflow_id,
                open_next=self._opening(next_stage) if next_stage else None,
                confirm=self.input.confirm if passes_stage and next_stage is None else None,
            ),
        )
        if next_stage is not None:
            self.opened_early[next_stage.position] = {todo.key for todo in result.opened}
        elif passes_stage:
            self.confirmed = True
        self.pending.discard(decision.todo_key)
        if not rejecting:
            self.approvers.append(decision.actor.user_id)
        elif self.input.todo_kind in SIDE_ROUND_KINDS:  # the change request (or return) ends
            self.outcome = ApprovalOutcome(
                approved=False, rejected_by=decision.actor.user_id, comment=decision.reason
            )
        else:
            revise = next(t for t in result.opened if t.key == revise_key)
            self.outcome = ApprovalOutcome(approved=False, revise_todo=revise)
        return TodoDone(todo_key=decision.todo_key, stage=result.stage)

    @decide.validator
    def validate_decide(self, decision: Decision) -> None:
        self.todos.check(decision.todo_key, decision.actor)
        if decision.actor.user_id == self.input.owner_id:
            raise ApplicationError(OWN_ORDER, type=SELF_APPROVAL)
        if decision.actor.user_id == self.input.requester_id:
            own = OWN_RETURN if self.input.todo_kind == TodoKind.approve_return else OWN_CHANGE
            raise ApplicationError(own, type=SELF_APPROVAL)
        refuse_if(decision.refusal(reason_missing=REJECTED_WITHOUT_REASON))
