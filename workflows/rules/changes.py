"""A change to a submitted order: what it may not undo (dispatched goods, invoiced or paid
money), the installments on the new total, and the revision's diff."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from models.domain import (
    FieldChange,
    InstallmentState,
    OrderTerms,
    PaymentPlanItem,
    Refusal,
    TermLine,
)
from workflows.rules.collection import installment_amounts
from workflows.rules.money import ZERO
from workflows.rules.pricing import spread


def change_floor_refusal(
    after: OrderTerms,
    *,
    dispatched: Mapping[str, Decimal],
    invoiced: Decimal,
    paid: Decimal,
) -> Refusal | None:
    """What the change may not undo: a line below what was dispatched (`dispatched` by line
    key; a removed line counts as zero), or the total below what was invoiced or paid. Each
    refusal says which, and the path that accounts for the difference."""
    quantities = {line.key: line.quantity for line in after.lines}
    for key, shipped in sorted(dispatched.items()):
        if shipped > 0 and quantities.get(key, ZERO) < shipped:
            return Refusal(
                "Line %(line)s would be below the %(dispatched)s already dispatched: goods that "
                "left come back through a return.",
                line=key,
                dispatched=f"{shipped:f}",
            )
    if after.total < invoiced:
        return Refusal(
            "The new total %(total)s is below the %(invoiced)s already invoiced: a credit note "
            "for the difference comes first.",
            total=f"{after.total:,.2f}",
            invoiced=f"{invoiced:,.2f}",
        )
    if after.total < paid:
        return Refusal(
            "The new total %(total)s is below the %(paid)s already paid: the difference is "
            "refunded, not changed away.",
            total=f"{after.total:,.2f}",
            paid=f"{paid:,.2f}",
        )
    return None


def installments_after_change(
    installments: Sequence[InstallmentState],
    total: Decimal,
    plan: Sequence[PaymentPlanItem] | None = None,
) -> list[InstallmentState]:
    """The installments on the new total. Money already paid stays where it is allocated; what
    is left to pay (the new total less what is paid) is spread over the open installments in
    proportion to what each still had open, or, with a new plan for what is not yet paid, the
    installments not begun are replaced by the plan's (a part-paid one closes at what it got).
    Amounts are rounded half up and sum exactly to the new total."""
    paid = sum((i.paid for i in installments), ZERO)
    left = total - paid
    assert left >= 0, "the new total is below what is paid: change_floor_refusal refuses it"
    if plan is not None:
        return _with_new_plan(installments, left, plan)
    opened = [i for i in installments if i.open > 0]
    if not opened:  # all was paid: what the change adds falls due with the last installment
        last = installments[-1]
        kept = [i.model_copy() for i in installments[:-1]]
        return [*kept, last.model_copy(update={"amount": last.amount + left})]
    shares = iter(spread(left, [i.open for i in opened]))
    return [
        i.model_copy(update={"amount": i.paid + next(shares)}) if i.open > 0 else i.model_copy()
        for i in installments
    ]


def _with_new_plan(
    installments: Sequence[InstallmentState], left: Decimal, plan: Sequence[PaymentPlanItem]
) -> list[InstallmentState]:
    begun = [i.model_copy(update={"amount": i.paid}) for i in installments if i.paid > 0]
    amounts = installment_amounts(left, [item.percent for item in plan])
    first = max((i.position for i in installments), default=0) + 1
    fresh = [
        InstallmentState(
            position=first + n,
            trigger=item.trigger,
            offset_days=item.offset_days,
            amount=amount,
            due_date=item.fixed_date,
        )
        for n, (item, amount) in enumerate(zip(plan, amounts, strict=True))
    ]
    return begun + fresh


def revision_changes(before: OrderTerms, after: OrderTerms) -> list[FieldChange]:
    """The revision's diff, field by field, in a fixed order: each line (added, removed, or
    its quantity, price or discount), then the whole-order terms and the total."""
    changes = _line_changes(before.lines, after.lines)
    for field in ("order_discount_percent", "target_total", "requested_delivery_date"):
        old, new = getattr(before, field), getattr(after, field)
        if old != new:
            changes.append(FieldChange(field=field, before=_text(old), after=_text(new)))
    if before.payment_plan != after.payment_plan:
        changes.append(
            FieldChange(
                field="payment_plan",
                before=_plan_text(before.payment_plan),
                after=_plan_text(after.payment_plan),
            )
        )
    if before.total != after.total:
        changes.append(
            FieldChange(field="total", before=_text(before.total), after=_text(after.total))
        )
    return changes


def _line_changes(before: Sequence[TermLine], after: Sequence[TermLine]) -> list[FieldChange]:
    old = {line.key: line for line in before}
    new = {line.key: line for line in after}
    changes = []
    for key, line in old.items():
        if key not in new:
            changes.append(
                FieldChange(field=f"lines[{line.product_code}]", before=_line_text(line), after="")
            )
            continue
        for field in ("quantity", "unit_price", "discount_percent"):
            was, now = getattr(line, field), getattr(new[key], field)
            if was != now:
                changes.append(
                    FieldChange(
                        field=f"lines[{line.product_code}].{field}",
                        before=_text(was),
                        after=_text(now),
                    )
                )
    for key, line in new.items():
        if key not in old:
            changes.append(
                FieldChange(field=f"lines[{line.product_code}]", before="", after=_line_text(line))
            )
    return changes


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}"
    return str(value)


def _line_text(line: TermLine) -> str:
    discount = f" −{_text(line.discount_percent)} %" if line.discount_percent else ""
    return f"{_text(line.quantity)} × {_text(line.unit_price)}{discount}"


def _plan_text(plan: Sequence[PaymentPlanItem]) -> str:
    parts = []
    for item in plan:
        when = item.fixed_date.isoformat() if item.fixed_date else item.trigger.value
        offset = f" +{item.offset_days} d" if item.offset_days else ""
        parts.append(f"{_text(item.percent)} % {when}{offset}")
    return ", ".join(parts)
