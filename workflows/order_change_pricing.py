"""OrderWorkflow's pricing of a change request: a change of products or quantities asks pricing
for an estimate of the order as the change makes it (an estimate_cost to-do for that change),
and its approval round is routed on the margin that estimate gives."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from models.domain import CostEstimate, EstimateCompletion, OrderFacts, Refusal, TodoDone
from models.domain.changes import ChangeRecorded, OpenChangeEstimate, RecordChangeEstimate
from workflows import rules
from workflows.activity_refs import ChangeSteps
from workflows.order_state import ChangePricing, OrderState
from workflows.refusals import INVALID, NOT_OPEN, refuse_if

# Changes asked before this patch were routed without a margin when they changed products or
# quantities, and applied without an estimate (the order's expected cost and margin cleared).
CHANGE_PRICING = "change-pricing"


class OrderChangePricing(OrderState):
    """The change's pricing to-do, its estimate (through the estimate_cost update, which the
    order's own estimate shares), and the facts its approval is routed on."""

    async def _ask_pricing(
        self, number: int, recorded: ChangeRecorded, requester: int
    ) -> Refusal | None:
        """Pricing get the change's estimate_cost to-do; what is wrong when the change no
        longer computes (then nothing was opened)."""
        assert recorded.facts is not None  # recorded: the facts of the order as changed
        wid = workflow.info().workflow_id
        key = f"{wid}/change/{number}/estimate"
        opened = await self.steps.run(
            ChangeSteps.open_change_estimate,
            OpenChangeEstimate(
                order_id=recorded.facts.order_id,
                workflow_id=wid,
                todo_key=key,
                number=number,
                requested_by_id=requester,
            ),
        )
        if (refusal := opened.refusal()) is not None:
            return refusal
        self.change_pricing = ChangePricing(number=number, todo_key=key, facts=recorded.facts)
        return None

    async def _priced(self, recorded: ChangeRecorded) -> tuple[ChangeRecorded, CostEstimate] | None:
        """Pricing's estimate, and the change's facts with the margin it gives; None when the
        change is withdrawn or the order cancelled first (the step that closes the change
        cancels the to-do). Not while pricing are giving it: their to-do is out of the book
        until their step is done."""
        pricing = self.change_pricing
        assert pricing is not None  # asked by request_change before this task started
        await workflow.wait_condition(
            lambda: (
                pricing.estimate is not None
                or (self._change_stopped() and pricing.todo_key in self.todos)
            )
        )
        self.change_pricing = None
        self.todos.discard(pricing.todo_key)
        if pricing.estimate is None or self._change_stopped():
            return None
        return recorded.model_copy(update={"facts": pricing.facts}), pricing.estimate

    def _change_stopped(self) -> bool:
        """Whoever asked withdrew the change, or the order is being cancelled."""
        return self.change_withdrawn_by is not None or self.halted or self.cancel_approved

    def _is_change_estimate(self, todo_key: str) -> bool:
        return self.change_pricing is not None and todo_key == self.change_pricing.todo_key

    def _check_change_estimate(self, completion: EstimateCompletion) -> None:
        """The estimate_cost validator's checks for a change's to-do: every line of the order
        as changed (a new one by -1, -2, ...) has its unit cost."""
        pricing = self.change_pricing
        assert pricing is not None  # _is_change_estimate said so
        self.todos.check(completion.todo_key, completion.actor)
        refuse_if(self._cancelling_refusal(), type=NOT_OPEN)
        if problems := rules.estimate_problems(pricing.facts, completion.estimate):
            raise ApplicationError(" ".join(problems), type=INVALID)

    async def _estimate_change(self, completion: EstimateCompletion) -> TodoDone:
        """Pricing estimated the change: recorded, and the change's facts take the margin."""
        self.todos.take(completion.todo_key, completion.actor)
        pricing = self.change_pricing
        assert pricing is not None  # the validator found the change's to-do
        figures = rules.expected_cost(pricing.facts, completion.estimate)
        await self.steps.run(
            ChangeSteps.record_change_estimate,
            RecordChangeEstimate(
                order_id=pricing.facts.order_id,
                todo_key=completion.todo_key,
                number=pricing.number,
                actor_id=completion.actor.user_id,
                expected_cost=figures.expected_cost,
                expected_margin=figures.expected_margin,
            ),
        )
        pricing.facts = _with_margin(pricing.facts, figures)
        pricing.estimate = completion.estimate
        return TodoDone(todo_key=completion.todo_key, stage=self.stage)


def _with_margin(facts: OrderFacts, figures: rules.CostFigures) -> OrderFacts:
    return facts.model_copy(
        update={
            "expected_margin": figures.expected_margin,
            "expected_margin_percent": figures.margin_percent,
        }
    )
