"""CollectionWorkflow after an approved change to its order: the installments on the new total,
merged by position so what the timers did (reminded, overdue, alerted) stays, and the timers
look again at the new amounts and dates."""

from __future__ import annotations

from datetime import date

from temporalio import workflow

from models.domain import CollectionStep, InstallmentState, PaymentTrigger
from models.domain.changes import ReplanInstallments
from workflows import rules
from workflows.activity_refs import ChangeSteps
from workflows.steps import StepRunner, TodoBook


def merged_installments(
    kept: dict[int, InstallmentState],
    replanned: list[InstallmentState],
    events: dict[PaymentTrigger, date],
) -> dict[int, InstallmentState]:
    """The new installments by position: one the collection had keeps its due date and what
    its timers did, with the new amount (money paid stays as the collection counted it); a new
    one gets its due date from the event it hangs on, if that happened."""
    merged: dict[int, InstallmentState] = {}
    for item in replanned:
        known = kept.get(item.position)
        if known is not None and known.trigger == item.trigger:
            merged[item.position] = known.model_copy(update={"amount": item.amount})
            continue
        due = item.due_date or rules.due_date(item.trigger, item.offset_days, None, events)
        # Built anew, not copied: the signal's payload is not of the class the workflow's own
        # models (CollectionStep) check against, and a copy of it failed the workflow task.
        merged[item.position] = InstallmentState.model_validate(
            {**item.model_dump(), "due_date": due}
        )
    return merged


class CollectionChanges:
    """The order's replan_installments signal (CollectionWorkflow's loop re-arms its timers
    when `changes` moves)."""

    todos: TodoBook
    steps: StepRunner
    changes: int
    installments: dict[int, InstallmentState]
    events: dict[PaymentTrigger, date]
    stopped: bool

    @workflow.signal
    async def replan_installments(self, replan: ReplanInstallments) -> None:
        """The order's change was applied: its installments are these now."""
        if self.stopped or not replan.installments:
            return
        before = self.installments
        self.installments = merged_installments(before, replan.installments, self.events)
        gone = [i for p, i in before.items() if p not in self.installments]
        closed = [*gone, *(i for i in self.installments.values() if i.open <= 0)]
        for item in closed:
            if item.due_date is not None:  # its collect to-do, if it went overdue, closes
                self.todos.discard(self._collect_key(item))
        await self.steps.run(
            ChangeSteps.replan_installments,
            self._step(
                f"replanned/{replan.revision}",
                installments=[i.model_copy() for i in self.installments.values()],
                status=rules.collection_status(
                    list(self.installments.values()), workflow.now().date()
                ),
            ),
        )
        self.changes += 1  # the timers look again, on the new amounts and dates
        await self._tell_order()

    def _collect_key(self, item: InstallmentState) -> str:
        return f"{workflow.info().workflow_id}/collect/{item.position}/{item.due_date}"

    def _step(self, name: str, **fields: object) -> CollectionStep:
        raise NotImplementedError  # CollectionWorkflow's

    async def _tell_order(self) -> None:
        raise NotImplementedError  # CollectionWorkflow's
