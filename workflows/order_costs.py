"""OrderWorkflow's actual costs, the comparison with the estimate (variance) and closing."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from models.domain import (
    COSTS_REJECTED_WITHOUT_REASON,
    VARIANCE_REJECTED_WITHOUT_REASON,
    CostRecording,
    CostStep,
    CostStepResult,
    Decision,
    Role,
    Stage,
    TodoDone,
    VarianceReview,
)
from workflows import rules
from workflows.activity_refs import CostSteps
from workflows.order_state import CostBatchState, OrderState
from workflows.refusals import NOT_ASSIGNEE, NOT_OPEN, SELF_APPROVAL, refuse_if


class OrderCosts(OrderState):
    """Ops record the actual costs in batches, finance approve each; once they are complete
    ops review the variance (a manager approves one above the threshold) and the order closes."""

    async def _begin_cost_review(self) -> None:
        """Fulfilment, acceptance and collection are done: the comparison opens once the costs
        are complete (ops are asked for them now if the first payment never asked)."""
        self.in_cost_review = True
        ask = self.records == 0
        begun = await self.steps.run(
            CostSteps.begin_cost_review,
            self._cost_step(
                "cost-review",
                record_todo_key=self._next_record_key() if ask else None,
                review_todo_key=self._next_review_key_if_ready(),
            ),
        )
        self._after_cost_step(begun)
        if not self.closed:
            self._enter(Stage.cost_review)

    def _cost_step(self, name: str, **fields: object) -> CostStep:
        wid = workflow.info().workflow_id
        assert self.facts is not None  # loaded by start_costing, the run's first step
        return CostStep(
            order_id=self.facts.order_id, workflow_id=wid, step_key=f"{wid}/{name}", **fields
        )

    def _next_record_key(self) -> str:
        self.records += 1
        self.record_todo = f"{workflow.info().workflow_id}/costs/record/{self.records}"
        return self.record_todo

    def _next_review_key_if_ready(self) -> str | None:
        """The next review_variance to-do, when the order is in cost review and its costs are
        complete: ops said the last were recorded and finance decided every batch."""
        if not self.in_cost_review or self.record_todo or self.batches_pending:
            return None
        if self.variance is not None or self.records == 0:
            return None  # the review is open already / ops are not asked yet
        self.reviews += 1
        return f"{workflow.info().workflow_id}/variance/{self.reviews}/review"

    def _after_cost_step(self, result: CostStepResult) -> None:
        if result.figures is not None:
            self.variance = result.figures
        if result.closed:
            self.closed = True

    def _after_variance_step(self, result: CostStepResult) -> None:
        """A variance step may close the order: its Stage follows at once."""
        self._after_cost_step(result)
        if result.closed:
            self._enter(Stage.closed)

    @workflow.update
    async def record_actual_costs(self, recording: CostRecording) -> TodoDone:
        self.todos.take(recording.todo_key, recording.actor)
        self.record_todo = None
        number = None
        if recording.items:
            self.batches += 1
            number = self.batches
            keys = [item.key for item in recording.items]
            self.cost_keys.update(keys)
            self.batches_pending[f"{workflow.info().workflow_id}/costs/{number}/approve"] = (
                CostBatchState(number=number, keys=keys, recorded_by=recording.actor.user_id)
            )
        result = await self.steps.run(
            CostSteps.record_actual_costs,
            self._cost_step(
                f"costs/{number}/recorded" if number else f"costs/complete/{self.records}",
                actor_id=recording.actor.user_id,
                todo_key=recording.todo_key,
                batch=number or 0,
                items=recording.items,
                final=recording.final,
                record_todo_key=None if recording.final else self._next_record_key(),
                review_todo_key=self._next_review_key_if_ready(),
            ),
        )
        self._after_cost_step(result)
        return TodoDone(todo_key=recording.todo_key, stage=self.stage)

    @record_actual_costs.validator
    def validate_record_actual_costs(self, recording: CostRecording) -> None:
        if recording.actor.role == Role.finance:
            raise ApplicationError(
                "Operations record the actual costs; finance approve them.", type=NOT_ASSIGNEE
            )
        self.todos.check(recording.todo_key, recording.actor)
        refuse_if(recording.refusal(self.cost_keys))

    @workflow.update
    async def approve_actual_costs(self, decision: Decision) -> TodoDone:
        self.todos.take(decision.todo_key, decision.actor)
        batch = self.batches_pending.pop(decision.todo_key)
        approved = decision.outcome == "approve"
        record_key = None
        if not approved:
            self.cost_keys.difference_update(batch.keys)
            if self.record_todo is None:  # ops record those costs again
                record_key = self._next_record_key()
        result = await self.steps.run(
            CostSteps.decide_actual_costs,
            self._cost_step(
                f"costs/{batch.number}/decided",
                actor_id=decision.actor.user_id,
                todo_key=decision.todo_key,
                batch=batch.number,
                outcome=decision.outcome,
                comment=decision.reason,
                record_todo_key=record_key,
                review_todo_key=self._next_review_key_if_ready(),
            ),
        )
        self._after_cost_step(result)
        return TodoDone(todo_key=decision.todo_key, stage=self.stage)

    @approve_actual_costs.validator
    def validate_approve_actual_costs(self, decision: Decision) -> None:
        self.todos.check(decision.todo_key, decision.actor)
        refuse_if(decision.refusal(reason_missing=COSTS_REJECTED_WITHOUT_REASON))

    @workflow.update
    async def review_variance(self, review: VarianceReview) -> TodoDone:
        self.todos.take(review.todo_key, review.actor)
        assert self.variance is not None  # the review to-do opened with the figures
        above = self.variance.above_threshold
        self.reviewed_by = review.actor.user_id
        wid = workflow.info().workflow_id
        result = await self.steps.run(
            CostSteps.review_variance,
            self._cost_step(
                f"variance/{self.reviews}/reviewed",
                actor_id=review.actor.user_id,
                todo_key=review.todo_key,
                explanation=review.explanation.strip(),
                review_todo_key=f"{wid}/variance/{self.reviews}/approve" if above else None,
                close=not above,
            ),
        )
        self._after_variance_step(result)
        return TodoDone(todo_key=review.todo_key, stage=self.stage)

    @review_variance.validator
    def validate_review_variance(self, review: VarianceReview) -> None:
        self.todos.check(review.todo_key, review.actor)
        if self.variance is None:  # never so while a review is open
            raise ApplicationError("The cost figures are not ready yet.", type=NOT_OPEN)
        refuse_if(
            review.refusal(
                above_threshold=self.variance.above_threshold,
                threshold=rules.describe_threshold(self.variance.policy),
            )
        )

    @workflow.update
    async def approve_variance(self, decision: Decision) -> TodoDone:
        self.todos.take(decision.todo_key, decision.actor)
        approved = decision.outcome == "approve"
        review_round = self.reviews
        review_key = None
        if not approved:  # back to ops for another review
            self.variance = None
            self.reviewed_by = None
            self.reviews += 1
            review_key = f"{workflow.info().workflow_id}/variance/{self.reviews}/review"
        result = await self.steps.run(
            CostSteps.decide_variance,
            self._cost_step(
                f"variance/{review_round}/decided",
                actor_id=decision.actor.user_id,
                todo_key=decision.todo_key,
                outcome=decision.outcome,
                comment=decision.reason,
                review_todo_key=review_key,
            ),
        )
        self._after_variance_step(result)
        return TodoDone(todo_key=decision.todo_key, stage=self.stage)

    @approve_variance.validator
    def validate_approve_variance(self, decision: Decision) -> None:
        self.todos.check(decision.todo_key, decision.actor)
        if decision.actor.user_id == self.reviewed_by:
            raise ApplicationError(
                "You reviewed this variance: another operations manager approves it.",
                type=SELF_APPROVAL,
            )
        refuse_if(decision.refusal(reason_missing=VARIANCE_REJECTED_WITHOUT_REASON))
