"""A change to a submitted order: it never undoes what was dispatched, invoiced or paid; the
installments follow the new total without moving money already paid; the revision's diff says
field, before and after."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from models.domain import (
    FieldChange,
    InstallmentState,
    OrderTerms,
    PaymentPlanItem,
    PaymentTrigger,
    TermLine,
)
from workflows import rules


def line(key: str, code: str, quantity: str, price: str, discount: str = "0") -> TermLine:
    amount = D(quantity) * D(price) * (1 - D(discount) / 100)
    return TermLine(
        key=key,
        product_code=code,
        quantity=D(quantity),
        unit_price=D(price),
        discount_percent=D(discount),
        amount=amount,
    )


def terms(*lines: TermLine, **fields: object) -> OrderTerms:
    total = sum((ln.amount for ln in lines), D("0"))
    return OrderTerms.model_validate({"lines": list(lines), "total": total, **fields})


def installment(position: int, amount: str, paid: str = "0") -> InstallmentState:
    return InstallmentState(
        position=position, trigger=PaymentTrigger.acceptance, amount=D(amount), paid=D(paid)
    )


# -- what a change may not undo ----------------------------------------------------------------


def test_a_line_below_what_was_dispatched_is_refused_and_points_to_a_return():
    after = terms(line("1", "PUMP-10", "3", "100"))
    refusal = rules.change_floor_refusal(
        after, dispatched={"1": D("5")}, invoiced=D("0"), paid=D("0")
    )
    assert refusal is not None and "return" in str(refusal)
    assert refusal.params == {"line": "1", "dispatched": "5"}


def test_removing_a_line_that_was_dispatched_is_refused():
    after = terms(line("2", "VALVE-3", "1", "100"))
    assert rules.change_floor_refusal(after, dispatched={"1": D("1")}, invoiced=D(0), paid=D(0))


def test_a_total_below_what_was_invoiced_asks_for_a_credit_note_first():
    after = terms(line("1", "PUMP-10", "1", "100"))
    refusal = rules.change_floor_refusal(after, dispatched={}, invoiced=D("150"), paid=D("0"))
    assert refusal is not None and "credit note" in str(refusal)
    assert str(refusal).startswith("The new total 100.00 is below the 150.00 already invoiced")


def test_a_total_below_what_was_paid_is_a_refund_not_a_change():
    after = terms(line("1", "PUMP-10", "1", "100"))
    refusal = rules.change_floor_refusal(after, dispatched={}, invoiced=D("0"), paid=D("120"))
    assert refusal is not None and "refunded" in str(refusal)


def test_a_change_that_keeps_dispatched_invoiced_and_paid_whole_passes():
    after = terms(line("1", "PUMP-10", "5", "100"))
    assert (
        rules.change_floor_refusal(
            after, dispatched={"1": D("5")}, invoiced=D("500"), paid=D("500")
        )
        is None
    )


# -- installments on the new total ---------------------------------------------------------------


def test_the_open_installments_share_the_new_total_and_paid_money_stays():
    before = [installment(1, "300", paid="300"), installment(2, "600"), installment(3, "100")]
    after = rules.installments_after_change(before, D("1100"))
    assert [(i.amount, i.paid) for i in after] == [
        (D("300"), D("300")),
        (D("685.71"), D("0")),
        (D("114.29"), D("0")),
    ]
    assert sum(i.amount for i in after) == D("1100")


def test_a_part_paid_installment_keeps_its_payment_and_shares_what_is_left():
    before = [installment(1, "500", paid="200"), installment(2, "500")]
    after = rules.installments_after_change(before, D("800"))
    # 600 left to pay, shared 300 : 500 as the installments still had it open
    assert [(i.amount, i.paid) for i in after] == [(D("425.00"), D("200")), (D("375.00"), D(0))]
    assert sum(i.amount for i in after) == D("800")


def test_amounts_are_rounded_half_up_and_sum_exactly():
    before = [installment(n, "1") for n in (1, 2, 3)]
    after = rules.installments_after_change(before, D("100"))
    assert [i.amount for i in after] == [D("33.34"), D("33.33"), D("33.33")]


def test_when_everything_was_paid_what_the_change_adds_falls_due_with_the_last_installment():
    before = [installment(1, "300", paid="300"), installment(2, "700", paid="700")]
    after = rules.installments_after_change(before, D("1200"))
    assert [(i.amount, i.paid) for i in after] == [(D("300"), D("300")), (D("900"), D("700"))]


def test_a_new_plan_replaces_the_installments_not_begun_on_what_is_left_to_pay():
    before = [
        installment(1, "300", paid="300"),
        installment(2, "600", paid="100"),
        installment(3, "100"),
    ]
    plan = [
        PaymentPlanItem(percent=D("50"), trigger=PaymentTrigger.dispatch),
        PaymentPlanItem(
            percent=D("50"), trigger=PaymentTrigger.fixed_date, fixed_date=date(2027, 3, 1)
        ),
    ]
    after = rules.installments_after_change(before, D("1000"), plan)
    assert [(i.position, i.amount, i.paid, i.trigger) for i in after] == [
        (1, D("300"), D("300"), PaymentTrigger.acceptance),
        (2, D("100"), D("100"), PaymentTrigger.acceptance),
        (4, D("300.00"), D("0"), PaymentTrigger.dispatch),
        (5, D("300"), D("0"), PaymentTrigger.fixed_date),
    ]
    assert after[-1].due_date == date(2027, 3, 1)
    assert sum(i.amount for i in after) == D("1000")


def test_a_total_below_what_was_paid_is_not_recomputed():
    with pytest.raises(AssertionError):  # change_floor_refusal refuses it first
        rules.installments_after_change([installment(1, "100", paid="100")], D("50"))


# -- the revision's diff -----------------------------------------------------------------------


def test_the_diff_names_each_changed_field_with_before_and_after():
    before = terms(
        line("1", "PUMP-10", "2", "8500"),
        line("2", "VALVE-3", "10", "1200", "5"),
        requested_delivery_date=date(2027, 2, 2),
    )
    after = terms(
        line("1", "PUMP-10", "3", "8500"),
        line("new-1", "HOSE-1", "4", "50"),
        requested_delivery_date=date(2027, 3, 1),
    )
    assert rules.revision_changes(before, after) == [
        FieldChange(field="lines[PUMP-10].quantity", before="2", after="3"),
        FieldChange(field="lines[VALVE-3]", before="10 × 1200 −5 %", after=""),
        FieldChange(field="lines[HOSE-1]", before="", after="4 × 50"),
        FieldChange(field="requested_delivery_date", before="2027-02-02", after="2027-03-01"),
        FieldChange(field="total", before="28400", after="25700"),
    ]


def test_an_unchanged_order_has_an_empty_diff():
    same = terms(line("1", "PUMP-10", "2", "8500"))
    assert rules.revision_changes(same, same) == []


def test_a_new_payment_plan_is_one_change_in_words():
    plan = [PaymentPlanItem(percent=D("100"), trigger=PaymentTrigger.confirmation)]
    new = [
        PaymentPlanItem(percent=D("30"), trigger=PaymentTrigger.confirmation),
        PaymentPlanItem(percent=D("70"), trigger=PaymentTrigger.acceptance, offset_days=30),
    ]
    one = line("1", "PUMP-10", "1", "100")
    [change] = rules.revision_changes(terms(one, payment_plan=plan), terms(one, payment_plan=new))
    assert change == FieldChange(
        field="payment_plan",
        before="100 % confirmation",
        after="30 % confirmation, 70 % acceptance +30 d",
    )
