"""OrderWorkflow's road to confirmation: the estimate, approval rounds, revision, re-routing."""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from models.domain import (
    ApprovalOutcome,
    ApprovalRoundInput,
    ConfirmOrder,
    EstimateCompletion,
    OpenRound,
    OpenTodo,
    PrepareRerouting,
    RecordEstimate,
    RecordUnroutable,
    Resubmit,
    Resubmitted,
    RevisionOutcome,
    Role,
    RoundFacts,
    RouteAgain,
    RouteStage,
    Stage,
    TodoDone,
    Withdraw,
)
from workflows import rules
from workflows.activity_refs import OrderSteps
from workflows.order_change_pricing import OrderChangePricing
from workflows.order_state import (
    ONE_STEP_PER_DECISION,
    ORDER_TOTAL,
    ROUNDS_NUMBERED_APART,
)
from workflows.refusals import INVALID, NOT_ASSIGNEE, NOT_OPEN, refuse_if

with workflow.unsafe.imports_passed_through():
    # The child runs in a sandbox of its own; the order only names its run.
    from workflows.approval import ApprovalWorkflow


class OrderApproval(OrderChangePricing):
    """The cost estimate, the approval rounds (child workflows), revision and routing again."""

    def _confirmation(self) -> ConfirmOrder:
        # start_costing, the run's first step, loaded the facts and the policy.
        assert self.facts is not None and self.policy is not None
        return ConfirmOrder(
            order_id=self.facts.order_id,
            step_key=f"{workflow.info().workflow_id}/confirmed",
            notify=rules.notify_on_approval(self.policy, self.facts),
        )

    async def _approval_round(self, round_number: int) -> bool:
        """One round of the approval chain as a child workflow; True when the order passed."""
        wid = workflow.info().workflow_id
        stages, first_stage_opened = await self._route(round_number)
        if self.unroutable:  # cancelled while no one could approve it
            return self._halt()
        self._enter(Stage.approval)
        one_step_per_decision = workflow.patched(ONE_STEP_PER_DECISION)
        # start_costing, the run's first step, loaded the facts and the policy.
        assert self.facts is not None and self.policy is not None
        round_handle = await workflow.start_child_workflow(
            ApprovalWorkflow.run,
            ApprovalRoundInput(
                order_id=self.facts.order_id,
                order_number=self.facts.number,
                owner_id=self.facts.owner_id,
                round_number=round_number,
                policy_version=self.policy.version,
                stages=stages,
                facts=rules.decision_facts(self.facts),
                first_stage_opened=first_stage_opened,
                confirm=self._confirmation() if one_step_per_decision else None,
            ),
            id=f"{wid}/approval/{round_number}",
        )
        self.round_started = round_number
        withdrawing = asyncio.create_task(self._withdraw_if_cancelled(round_handle))
        outcome = await round_handle
        withdrawing.cancel()
        if outcome.approved:
            self.confirmed_by_round = outcome.confirmed
            return True
        if outcome.withdrawn:  # the order is being cancelled
            return self._halt()
        assert outcome.revise_todo is not None  # a rejected round opens the owner's revise to-do
        self.todos.add([outcome.revise_todo])
        self._enter(Stage.revising)
        return False

    async def _withdraw_if_cancelled(
        self, round_handle: workflow.ChildWorkflowHandle[ApprovalWorkflow, ApprovalOutcome]
    ) -> None:
        """A round running when the order is cancelled ends through its own code path."""
        await workflow.wait_condition(lambda: self.cancellation is not None)
        await round_handle.signal(ApprovalWorkflow.withdraw)

    async def _route(self, round_number: int) -> tuple[list[RouteStage], list[OpenTodo] | None]:
        """The round's stages (and its first stage's to-dos, when the estimate step opened
        them), after as many attempts as it takes the admin to make the order routable."""
        wid = workflow.info().workflow_id
        attempt = 0
        prepared = self.prepared if self.prepared_round == round_number else None
        while True:
            if prepared is not None and prepared.route is not None:
                self.route_attempts += 1
                return prepared.route, prepared.round_opened
            try:
                if prepared is not None:  # the estimate step found no one and said so
                    raise rules.UnroutableError(prepared.unroutable)
                # start_costing, the run's first step, loaded the facts and the policy.
                assert self.policy is not None and self.facts is not None
                stages = rules.approval_route(self.policy, self.facts)
                self.route_attempts += 1
                return stages, None
            except rules.UnroutableError as unroutable:
                attempt += 1
                suffix = "" if attempt == 1 else f"/{attempt}"
                if prepared is None:
                    assert self.facts is not None  # loaded by start_costing, the first step
                    await self.steps.run(
                        OrderSteps.record_unroutable,
                        RecordUnroutable(
                            order_id=self.facts.order_id,
                            step_key=f"{wid}/approval/{round_number}/unroutable{suffix}",
                            reason=str(unroutable),
                        ),
                    )
                prepared = None
                # On the admin's unroutable list until they fix the policy or the department
                # tree and route it again.
                self.unroutable = True
                self.route_attempts += 1
                await workflow.wait_condition(
                    lambda: not self.unroutable or self.cancellation is not None
                )
                if self.unroutable:  # cancelled while no one could approve it
                    return [], None

    def _routing_on(self, loaded: RoundFacts | Resubmitted) -> None:
        """Route the next round on freshly loaded facts and the policy in force (steps
        recorded before routing loaded them keep what the order started with)."""
        if loaded.facts is not None:
            self.facts = loaded.facts
        if loaded.policy is not None:
            self.policy = loaded.policy

    @workflow.update
    async def estimate_cost(self, completion: EstimateCompletion) -> TodoDone:
        if self._is_change_estimate(completion.todo_key):  # a change request's pricing
            return await self._estimate_change(completion)
        self.todos.take(completion.todo_key, completion.actor)
        assert self.facts is not None  # loaded by start_costing, before any estimate to-do
        figures = rules.expected_cost(self.facts, completion.estimate)
        wid = workflow.info().workflow_id
        next_round = self.round_number + 1
        # One step per decision: the estimate's step also routes the round and opens its
        # first stage (earlier orders did that in the round's own first step).
        open_round = None
        if workflow.patched(ONE_STEP_PER_DECISION):
            if workflow.patched(ROUNDS_NUMBERED_APART):  # not one a change request holds
                next_round = self._next_round_number()
            open_round = OpenRound(
                round_number=next_round,
                workflow_id=f"{wid}/approval/{next_round}",
                order_workflow_id=wid,
                unroutable_key=f"{wid}/approval/{next_round}/unroutable",
            )
        result = await self.steps.run(
            OrderSteps.record_estimate,
            RecordEstimate(
                order_id=self.facts.order_id,
                todo_key=completion.todo_key,
                actor_id=completion.actor.user_id,
                estimate=completion.estimate,
                expected_cost=figures.expected_cost,
                expected_margin=figures.expected_margin,
                open_round=open_round,
            ),
        )
        self._routing_on(result)
        if open_round is not None:
            self.prepared, self.prepared_round = result, next_round
        self._enter(result.stage)
        self.awaiting_estimate = False
        if result.route:
            # The approvers' to-dos exist; answer once their round can take decisions.
            await workflow.wait_condition(lambda: self.round_started >= next_round or self.halted)
        return TodoDone(todo_key=completion.todo_key, stage=result.stage)

    @estimate_cost.validator
    def validate_estimate_cost(self, completion: EstimateCompletion) -> None:
        if self._is_change_estimate(completion.todo_key):
            return self._check_change_estimate(completion)
        self.todos.check(completion.todo_key, completion.actor)
        refuse_if(self._cancelling_refusal(), type=NOT_OPEN)
        assert self.facts is not None  # loaded by start_costing, before any estimate to-do
        if problems := rules.estimate_problems(self.facts, completion.estimate):
            raise ApplicationError(" ".join(problems), type=INVALID)

    @workflow.update
    async def revise(self, revision: RevisionOutcome) -> TodoDone:
        self.todos.take(revision.todo_key, revision.actor)
        wid = workflow.info().workflow_id
        assert self.facts is not None  # loaded by start_costing, the run's first step
        if revision.outcome == "withdraw":
            withdrawn = await self.steps.run(
                OrderSteps.withdraw,
                Withdraw(
                    order_id=self.facts.order_id,
                    todo_key=revision.todo_key,
                    actor_id=revision.actor.user_id,
                    comment=revision.comment,
                ),
            )
            self.revision = "withdraw"
            return TodoDone(todo_key=revision.todo_key, stage=withdrawn.stage)
        next_estimate = self.estimates + 1
        result = await self.steps.run(
            OrderSteps.resubmit,
            Resubmit(
                order_id=self.facts.order_id,
                workflow_id=wid,
                todo_key=revision.todo_key,
                actor_id=revision.actor.user_id,
                estimate_todo_key=f"{wid}/estimate/{next_estimate}",
            ),
        )
        self._routing_on(result)
        if result.needs_estimate:
            self.estimates = next_estimate
            self.awaiting_estimate = True
        workflow.upsert_search_attributes([ORDER_TOTAL.value_set(float(self.facts.total))])
        self._enter(result.stage)
        self.revision = "resubmit"
        return TodoDone(todo_key=revision.todo_key, stage=result.stage)

    @revise.validator
    def validate_revise(self, revision: RevisionOutcome) -> None:
        self.todos.check(revision.todo_key, revision.actor)
        refuse_if(self._cancelling_refusal(), type=NOT_OPEN)

    @workflow.update
    async def route_again(self, request: RouteAgain) -> TodoDone:
        """Admin fixed what made the order unroutable: load the facts and policy again and
        retry the route. Returns once the attempt is made: routed, or back on the unroutable
        list with the reason."""
        attempts = self.route_attempts
        assert self.facts is not None  # only an order whose routing failed gets here
        loaded = await self.steps.run(
            OrderSteps.prepare_rerouting,
            PrepareRerouting(
                order_id=self.facts.order_id,
                step_key=f"{workflow.info().workflow_id}/rerouted/{attempts}",
                actor_id=request.actor.user_id,
            ),
        )
        self._routing_on(loaded)
        self.unroutable = False
        await workflow.wait_condition(lambda: self.route_attempts > attempts or self.halted)
        return TodoDone(todo_key="", stage=self.stage)

    @route_again.validator
    def validate_route_again(self, request: RouteAgain) -> None:
        if request.actor.role != Role.admin:
            raise ApplicationError(
                "Only an administrator can route an order again.", type=NOT_ASSIGNEE
            )
        if not self.unroutable or self.cancellation is not None:
            raise ApplicationError("This order is not waiting for a route.", type=NOT_OPEN)
