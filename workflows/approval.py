"""ApprovalWorkflow: one approval round of an order, stage by stage, each stage decided in
parallel; a rejection ends the round and sends the order back to its owner."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from models.domain import (
    ApprovalOutcome,
    ApprovalRoundInput,
    Decision,
    OpenStage,
    RecordDecision,
    TodoDone,
)
from workflows.steps import INVALID, SELF_APPROVAL, StepRunner, TodoBook

with workflow.unsafe.imports_passed_through():
    from activities.approvals import ApprovalActivities


@workflow.defn
class ApprovalWorkflow:
    def __init__(self) -> None:
        self.todos = TodoBook()
        self.steps = StepRunner(self.todos)
        self.input: ApprovalRoundInput | None = None
        self.pending: set[str] = set()
        self.stage_position = 0
        self.rejected = False
        self.outcome: ApprovalOutcome | None = None

    @workflow.run
    async def run(self, round_input: ApprovalRoundInput) -> ApprovalOutcome:
        self.input = round_input
        for stage in round_input.stages:
            self.stage_position = stage.position
            opened = await self.steps.run(
                ApprovalActivities.open_stage,
                OpenStage(
                    order_id=round_input.order_id,
                    workflow_id=workflow.info().workflow_id,
                    order_workflow_id=self._order_workflow_id,
                    round_number=round_input.round_number,
                    policy_version=round_input.policy_version,
                    stage=stage,
                ),
            )
            self.pending = {todo.key for todo in opened.opened}
            await workflow.wait_condition(lambda: not self.pending or self.rejected)
            if self.rejected:
                break
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self.steps.mail_sent()
        return self.outcome or ApprovalOutcome(approved=True)

    @property
    def _order_workflow_id(self) -> str:
        return workflow.info().parent.workflow_id if workflow.info().parent else ""

    @workflow.update
    async def decide(self, decision: Decision) -> TodoDone:
        self.todos.take(decision.todo_key, decision.actor)
        self.pending.discard(decision.todo_key)
        rejecting = decision.outcome == "reject"
        if rejecting:
            self.rejected = True
            self.todos.discard_all()
        last_stage = self.input.stages[-1].position
        revise_key = f"{self._order_workflow_id}/revise/{self.input.round_number}"
        result = await self.steps.run(
            ApprovalActivities.record_decision,
            RecordDecision(
                order_id=self.input.order_id,
                round_number=self.input.round_number,
                todo_key=decision.todo_key,
                actor_id=decision.actor.user_id,
                outcome=decision.outcome,
                comment=decision.comment,
                round_approved=(
                    not rejecting and not self.pending and self.stage_position == last_stage
                ),
                revise_todo_key=revise_key,
                order_workflow_id=self._order_workflow_id,
            ),
        )
        if rejecting:
            revise = next(t for t in result.opened if t.key == revise_key)
            self.outcome = ApprovalOutcome(approved=False, revise_todo=revise)
        return TodoDone(todo_key=decision.todo_key, stage=result.stage)

    @decide.validator
    def validate_decide(self, decision: Decision) -> None:
        self.todos.check(decision.todo_key, decision.actor)
        if decision.actor.user_id == self.input.owner_id:
            raise ApplicationError("Nobody approves their own order.", type=SELF_APPROVAL)
        if decision.outcome == "reject" and not decision.comment.strip():
            raise ApplicationError("A rejection needs a comment.", type=INVALID)
