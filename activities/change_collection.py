"""What a change request does beyond its own rows: an approved change reaches the order's
installments (the rows follow the collection's new installments: amounts, new ones, those the
change's plan replaced; collect to-dos of what is no longer open close), and a withdrawn
change's approval round ends with its to-dos."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import delete, select

from activities.steps import StepRecorder, amount_text
from models.domain import CollectionStep, InstallmentState, TodoStatus
from models.tables import ApprovalRound, ApprovalStep, Installment, Order, Todo
from workflows import rules


async def write_installments(rec: StepRecorder, order: Order, step: CollectionStep) -> None:
    """Idempotent: the rows end as the step's installments say, however often it runs."""
    session = rec.session
    rows = {
        row.position: row
        for row in await session.scalars(
            select(Installment).where(Installment.order_id == order.id)
        )
    }
    wanted = {item.position: item for item in step.installments}
    gone = [row for position, row in rows.items() if position not in wanted and row.paid == 0]
    if gone:
        await session.execute(delete(Installment).where(Installment.id.in_([r.id for r in gone])))
    total = sum((item.amount for item in wanted.values()), Decimal("0"))
    for item in wanted.values():
        row = rows.get(item.position)
        if row is None:
            row = Installment(order_id=order.id, position=item.position, paid=Decimal("0"))
            session.add(row)
        row.trigger = item.trigger.value
        row.offset_days = item.offset_days
        row.amount = item.amount
        row.percent = rules.money(item.amount / total * rules.HUNDRED) if total else Decimal("0")
        row.settled = item.amount <= row.paid
        row.due_on = item.due_date
    closed = [
        f"{step.workflow_id}/collect/{r.position}/{r.due_on}"
        for r in [*gone, *rows.values()]
        if r.due_on is not None and (r.position not in wanted or wanted[r.position].open <= 0)
    ]
    if closed:
        todos = await session.scalars(select(Todo).where(Todo.key.in_(closed)))
        await rec.cancel_todos(list(todos))
    order.collection_status = step.status or order.collection_status
    await rec.add_event(
        key=step.step_key, order=order, kind="installments_due", actor_id=None,
        **{f"#{i.position}": installment_text(i) for i in wanted.values()},
    )  # fmt: skip


def installment_text(item: InstallmentState) -> str:
    return f"{amount_text(item.amount)} {item.due_date or item.trigger.value}"


async def end_round(rec: StepRecorder, round_workflow_id: str) -> None:
    """The change's approval round is cancelled, with its open to-dos."""
    in_round = select(Todo).where(Todo.workflow_id == round_workflow_id)
    todos = list(await rec.session.scalars(in_round))
    await rec.cancel_todos([t for t in todos if t.status == TodoStatus.open.value])
    round_ids = await rec.session.scalars(
        select(ApprovalStep.round_id).where(ApprovalStep.todo_id.in_([t.id for t in todos]))
    )
    for round_id in set(round_ids):
        approval_round = await rec.session.get_one(ApprovalRound, round_id)
        if approval_round.status == "running":
            approval_round.status = "cancelled"
            approval_round.ended_at = rec.now
