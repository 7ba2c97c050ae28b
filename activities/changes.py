"""Activities of an order's change requests: recorded and weighed for approval, then applied as
the order's next revision, or rejected or withdrawn (the order staying as it was)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.change_collection import end_round, write_installments
from activities.change_pricing import cancel_change_estimate
from activities.change_revision import extra_dispatch, write_revision
from activities.change_terms import (
    ChangedOrder,
    changed_line_facts,
    changed_order,
    dispatched_by_line,
    installments_of,
    reservations_of,
)
from activities.contact_mail import tell_contacts
from activities.facts import order_facts
from activities.steps import StepRecorder, amount_text, insert_once
from activities.store import StepStore
from models.domain import (
    Assignee,
    CollectionStep,
    CollectionStepResult,
    InstallmentState,
    OrderFacts,
    Refusal,
    Role,
    Stage,
)
from models.domain.changes import (
    CHANGE_DECIDED,
    GOODS_WHILE_COSTING,
    ONE_OPEN_CHANGE,
    ApplyChange,
    ChangeApplied,
    ChangeRecorded,
    ChangeRequest,
    ChangeStepResult,
    CloseChange,
    FieldChange,
    RecordChange,
)
from models.policy import current_policy
from models.tables import Order, OrderChangeRequest, OrderRevision, User
from notifications.contact_words import ContactWords
from workflows import rules

# Who hears of an applied change besides its owner, its approvers and the customer's contacts.
CONCERNED = [Assignee(role=Role.ops), Assignee(role=Role.warehouse), Assignee(role=Role.finance)]


async def request_of(session: AsyncSession, order: Order, number: int) -> OrderChangeRequest:
    found = await session.scalar(
        select(OrderChangeRequest).where(
            OrderChangeRequest.order_id == order.id, OrderChangeRequest.number == number
        )
    )
    if found is None:
        raise ApplicationError(
            f"No change request {number} on order {order.number}", non_retryable=True
        )
    return found


D0 = Decimal("0")
# The shipment's status once the customer accepted the goods (its workflow has ended).
ACCEPTED = "accepted"


def _adds_goods(changed: ChangedOrder) -> bool:
    """A line added, or one whose quantity grows."""
    before = {line.key: line.quantity for line in changed.before.lines}
    return any(line.quantity > before.get(line.key, D0) for line in changed.after.lines)


async def floor_refusal(
    session: AsyncSession, order: Order, changed: ChangedOrder
) -> Refusal | None:
    """The change may not take a line below what was dispatched, nor the total below what was
    invoiced or paid; once the customer accepted the goods, it may not add any (the shipment
    has ended: more goods go out as a new order)."""
    if order.shipment_status == ACCEPTED and _adds_goods(changed):
        return Refusal(
            "The customer of order %(number)s has accepted the goods: more goods go out as a "
            "new order.",
            number=order.number,
        )
    dispatched = dispatched_by_line(await reservations_of(session, [ln.id for ln in order.lines]))
    return rules.change_floor_refusal(
        changed.after,
        dispatched={str(line_id): quantity for line_id, quantity in dispatched.items()},
        invoiced=order.invoiced,
        paid=order.paid,
    )


class ChangeActivities:
    """A change request's bookkeeping; the order workflow routes and decides it."""

    def __init__(self, store: StepStore, *, hold_dispatch_for_deposit: bool = False) -> None:
        self.store = store
        self.hold_dispatch_for_deposit = hold_dispatch_for_deposit

    @activity.defn
    async def record_change_request(self, step: RecordChange) -> ChangeRecorded:
        """The change request is stored (open) with a timeline entry, and the order as it would
        be is weighed as a new order is: its facts for approval routing and whether pricing
        estimates again. A change that cannot be made (below what was dispatched, invoiced or
        paid, a line or product that is not there, prices that do not compute) comes back as
        the problem, and nothing is written."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id)
            rec = self.store.recorder(session)
            try:
                changed = await changed_order(session, order, step.change, today=rec.now.date())
            except Refusal as wrong:
                return ChangeRecorded.refusing(wrong)
            refusal = await floor_refusal(session, order, changed)
            if changed.needs_estimate and order.stage == Stage.costing.value:
                refusal = refusal or Refusal(GOODS_WHILE_COSTING, number=order.number)
            refusal = refusal or await self._another_open(session, order, step.number)
            if refusal is not None:
                return ChangeRecorded.refusing(refusal)
            await insert_once(
                session,
                OrderChangeRequest.__table__,
                {
                    "order_id": order.id,
                    "number": step.number,
                    "status": "open",
                    "reason": step.change.reason.strip(),
                    "body": step.change.model_dump(mode="json"),
                    "requested_by_id": step.change.actor.user_id,
                    "requested_at": rec.now,
                },
                unique=("order_id", "number"),
            )
            await rec.add_event(
                key=step.step_key, order=order, kind="change_requested",
                actor_id=step.change.actor.user_id, number=step.number,
                reason=step.change.reason.strip(), total=amount_text(changed.after.total),
            )  # fmt: skip
            policy = await current_policy(session=session)
            facts = await order_facts(
                session, order, policy, hold_dispatch_for_deposit=self.hold_dispatch_for_deposit
            )
            changed_facts = await self._changed_facts(session, order, facts, changed)
            await session.commit()
            return ChangeRecorded(
                facts=changed_facts,
                policy=policy,
                needs_estimate=changed.needs_estimate,
                changes=rules.revision_changes(changed.before, changed.after),
                mail_ids=rec.mail_ids,
            )

    async def _another_open(
        self, session: AsyncSession, order: Order, number: int
    ) -> Refusal | None:
        other = await session.scalar(
            select(func.min(OrderChangeRequest.number)).where(
                OrderChangeRequest.order_id == order.id,
                OrderChangeRequest.status == "open",
                OrderChangeRequest.number != number,
            )
        )
        return None if other is None else Refusal(ONE_OPEN_CHANGE, number=other)

    async def _changed_facts(
        self, session: AsyncSession, order: Order, facts: OrderFacts, changed: ChangedOrder
    ) -> OrderFacts:
        """The new order's facts on the changed lines and total; its margin on the kept
        estimate when the goods are the same, else unknown until pricing estimates again."""
        lines = await changed_line_facts(session, order, changed)
        total = changed.after.total
        margin = None
        if not changed.needs_estimate and order.expected_cost is not None:
            margin = total - order.expected_cost  # the same goods cost the same
        return facts.model_copy(
            update={
                "total": total,
                "max_discount_percent": max(
                    (
                        rules.discount_percent_vs_list(
                            ln.amount, ln.quantity, ln.product.list_price
                        )
                        for ln in changed.lines
                    ),
                    default=Decimal("0"),
                ),
                "lines": lines,
                "exposure": None
                if facts.exposure is None
                else facts.exposure - order.total + total,
                "expected_margin": margin,
                "expected_margin_percent": (
                    rules.money(margin / total * rules.HUNDRED)
                    if margin is not None and total
                    else None
                ),
                "needs_installation": any(ln.product.needs_installation for ln in changed.lines),
            }
        )

    @activity.defn
    async def apply_change(self, step: ApplyChange) -> ChangeApplied:
        """The approved change becomes the order's next revision, in one transaction: lines,
        terms and totals re-priced, stock reserved following the new quantities, the revision
        with its diff, the request approved, a timeline entry, and one mail each to the owner,
        the approvers, ops, the warehouse, finance and the customer's contacts. Checked again
        against what was dispatched, invoiced and paid meanwhile (a problem writes nothing).
        Returns the new total and the installments for the collection to take."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id)
            rec = self.store.recorder(session)
            request = await request_of(session, order, step.number)
            change = ChangeRequest.model_validate(request.body)
            if request.status == "open":
                try:
                    changed = await changed_order(session, order, change, today=rec.now.date())
                except Refusal as wrong:
                    return ChangeApplied.refusing(wrong)
                if below := await floor_refusal(session, order, changed):
                    return ChangeApplied.refusing(below)
                await write_revision(rec, order, request, changed, step.estimate)
                request.decided_by_id = step.actor_id
            elif request.status != "approved":
                return ChangeApplied.refusing(Refusal(CHANGE_DECIDED, number=step.number))
            revision = await session.scalar(
                select(OrderRevision).where(OrderRevision.change_request_id == request.id)
            )
            assert revision is not None  # written above, or by the step this one retries
            changes = [FieldChange.model_validate(c) for c in revision.changes]
            await self._tell_applied(rec, order, request, revision.number, changes, step)
            reservations = await reservations_of(session, [ln.id for ln in order.lines])
            result = ChangeApplied(
                revision=revision.number,
                total=order.total,
                changes=changes,
                installments=await self._installments(session, order, change),
                replan=order.shipment_status is not None
                and not dispatched_by_line(reservations)
                and any(moves_goods(c) for c in changes),
                extra_dispatch=extra_dispatch(order, reservations),
                mail_ids=rec.mail_ids,
                stage=Stage(order.stage),
            )  # fmt: skip
            await session.commit()
            return result

    async def _installments(
        self, session: AsyncSession, order: Order, change: ChangeRequest
    ) -> list[InstallmentState]:
        """The installments on the new total (none before confirmation: the collection then
        starts from the order's plan)."""
        installments = await installments_of(session, order)
        if not installments:
            return []
        return rules.installments_after_change(installments, order.total, change.payment_plan)

    async def _tell_applied(
        self,
        rec: StepRecorder,
        order: Order,
        request: OrderChangeRequest,
        revision: int,
        changes: Sequence[FieldChange],
        step: ApplyChange,
    ) -> None:
        await rec.add_event(
            key=step.step_key, order=order, kind="change_applied", actor_id=step.actor_id,
            number=request.number, revision=revision, total=amount_text(order.total),
        )  # fmt: skip
        asked = [Assignee(user_id=request.requested_by_id)] if request.requested_by_id else []
        approvers = [Assignee(user_id=user_id) for user_id in step.approver_ids]
        people = [
            order.owner,
            *await rec.people([*asked, *approvers]),
            *await rec.people(CONCERNED),
        ]
        for person in each_once(people):  # what changed, in each person's language
            words = ContactWords(person.locale or "en", rec.currency)
            await rec.notify(
                key=step.step_key, users=[person], order=order, event="change_applied",
                comment=words.revision(revision, changes),
            )  # fmt: skip
        await tell_contacts(
            rec, order, key=f"{step.step_key}/contact", event="change_applied",
            values=lambda words: {"revision": revision, "changes": words.changes(changes)},
        )  # fmt: skip

    @activity.defn
    async def replan_installments(self, step: CollectionStep) -> CollectionStepResult:
        """The collection took the installments on the order's new total: the rows follow
        (the collection workflow runs this step)."""
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            await write_installments(rec, order, step)
            await session.commit()
            return CollectionStepResult(installments=step.installments, mail_ids=rec.mail_ids)

    @activity.defn
    async def reject_change(self, step: CloseChange) -> ChangeStepResult:
        """An approver rejected the change (with the reason): the order stays as it was, the
        timeline says so and whoever asked for it is told why."""
        return await self._close(step, status="rejected", event="change_rejected")

    @activity.defn
    async def withdraw_change(self, step: CloseChange) -> ChangeStepResult:
        """Whoever asked for the change withdrew it: the order stays as it was."""
        return await self._close(step, status="withdrawn", event="change_withdrawn")

    async def _close(self, step: CloseChange, *, status: str, event: str) -> ChangeStepResult:
        async with self.store.step() as session:
            order = await self.store.order(session, order_id=step.order_id, with_lines=False)
            rec = self.store.recorder(session)
            request = await request_of(session, order, step.number)
            if request.status not in ("open", status):
                return ChangeStepResult.refusing(Refusal(CHANGE_DECIDED, number=step.number))
            if request.status == "open":
                request.status = status
                request.decided_by_id = step.actor_id
                request.decided_at = rec.now
                request.comment = step.comment.strip() or None
            await rec.add_event(
                key=step.step_key, order=order, kind=event, actor_id=step.actor_id,
                number=step.number, comment=step.comment.strip() or None,
            )  # fmt: skip
            await cancel_change_estimate(rec, step.workflow_id, step.number)  # pricing's, if open
            if status == "withdrawn":
                await end_round(rec, f"{step.workflow_id}/change/{step.number}/approval")
            if status == "rejected" and request.requested_by_id is not None:
                asked = await rec.people([Assignee(user_id=request.requested_by_id)])
                await rec.notify(
                    key=step.step_key, users=asked, order=order, event=event,
                    comment=step.comment.strip(),
                )  # fmt: skip
            await session.commit()
            return ChangeStepResult(mail_ids=rec.mail_ids)


def moves_goods(change: FieldChange) -> bool:
    """A change the shipment's plan follows: a line added or removed, a quantity, the
    delivery date (not a price or a discount)."""
    field = change.field
    return field == "requested_delivery_date" or (
        field.startswith("lines[") and (field.endswith("]") or field.endswith(".quantity"))
    )


def each_once(users: Sequence[User]) -> list[User]:
    """Each person once, in the order first named."""
    seen: dict[int, User] = {}
    for user in users:
        seen.setdefault(user.id, user)
    return list(seen.values())
