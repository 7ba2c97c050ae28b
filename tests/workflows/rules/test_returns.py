"""Returns: never more back than went out, the value of what came back at the line's net unit
price to the cent, and the money in order: installments (latest first), refund, credit note."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from models.domain import InstallmentState, PaymentTrigger, ReturnLine, ReturnReceipt, Role
from models.domain.core import Actor
from models.domain.returns import ReceivedLine, ReturnRequest
from workflows import rules

ACTOR = Actor(user_id=3, role=Role.warehouse)


def installment(position: int, amount: str, paid: str = "0") -> InstallmentState:
    return InstallmentState(
        position=position, trigger=PaymentTrigger.acceptance, amount=D(amount), paid=D(paid)
    )


def test_what_can_come_back_is_dispatched_less_returned_or_asked_for():
    room = rules.returnable({1: D("10"), 2: D("4")}, {1: D("3"), 2: D("6")})
    assert room == {1: D("7"), 2: D("0")}


def test_a_line_with_nothing_dispatched_cannot_come_back():
    refusal = rules.return_refusal([ReturnLine(line_id=9, quantity=D("1"))], {1: D("2")})
    assert refusal is not None and refusal.params == {"line": 9}


def test_more_than_can_come_back_is_refused_with_the_room_left():
    refusal = rules.return_refusal([ReturnLine(line_id=1, quantity=D("3"))], {1: D("2")})
    assert refusal is not None
    assert str(refusal) == (
        "Line 1: 3 is more than the 2 that can still come back (dispatched less returned or "
        "asked for)."
    )
    assert rules.return_refusal([ReturnLine(line_id=1, quantity=D("2"))], {1: D("2")}) is None


@pytest.mark.parametrize(
    ("amount", "quantity", "before", "now", "value"),
    [
        ("1000.00", "4", "0", "1", "250.00"),
        ("100.00", "3", "0", "1", "33.33"),  # 33.333... half up to the cent
        ("100.00", "3", "1", "1", "33.34"),  # 66.67 so far less 33.33
        ("100.00", "3", "2", "1", "33.33"),  # the whole line comes back: exactly 100.00
        ("0.05", "2", "0", "1", "0.03"),  # 0.025 half up, not to even
        ("500.00", "0", "0", "1", "0"),
    ],
)
def test_a_return_is_worth_the_line_net_unit_price_to_the_cent(
    amount, quantity, before, now, value
):
    got = rules.returned_value(D(amount), D(quantity), before=D(before), now=D(now))
    assert got == D(value)


def test_a_line_back_in_several_receipts_is_worth_exactly_its_amount():
    parts = [rules.returned_value(D("1000.00"), D("7"), before=D(n), now=D("1")) for n in range(7)]
    assert sum(parts) == D("1000.00")


def test_a_return_before_the_balance_is_due_reduces_the_latest_installment_and_refunds_nothing():
    money = rules.return_money(
        [installment(1, "300.00", "300.00"), installment(2, "600.00"), installment(3, "100.00")],
        value=D("250.00"),
        net_total_before=D("1000.00"),
        paid=D("300.00"),
        invoiced=D("300.00"),
    )
    amounts = [i.amount for i in money.installments]
    assert amounts == [D("300.00"), D("450.00"), D("0.00")]  # the retention first, then #2
    assert (money.net_total, money.reduced, money.refund, money.credit) == (
        D("750.00"),
        D("250.00"),
        D("0"),
        D("0"),
    )


def test_money_paid_above_the_new_net_total_is_refunded_and_invoiced_above_it_credited():
    money = rules.return_money(
        [installment(1, "300.00", "300.00"), installment(2, "600.00", "600.00"),
         installment(3, "100.00")],
        value=D("400.00"),
        net_total_before=D("1000.00"),
        paid=D("900.00"),
        invoiced=D("1000.00"),
    )  # fmt: skip
    assert [i.amount for i in money.installments] == [D("300.00"), D("600.00"), D("0.00")]
    assert money.reduced == D("100.00")
    assert money.net_total == D("600.00")
    assert money.refund == D("300.00")  # 900 paid above 600
    assert money.credit == D("400.00")  # 1000 invoiced above 600


def test_a_part_paid_installment_keeps_what_it_got():
    money = rules.return_money(
        [installment(1, "500.00", "200.00"), installment(2, "500.00")],
        value=D("700.00"),
        net_total_before=D("1000.00"),
        paid=D("200.00"),
        invoiced=D("0"),
    )
    assert [i.amount for i in money.installments] == [D("300.00"), D("0.00")]
    assert (money.reduced, money.refund) == (D("700.00"), D("0"))


def test_a_return_request_needs_lines_positive_quantities_once_each_and_a_reason():
    def asked(lines, reason="wrong model"):
        return ReturnRequest(actor=ACTOR, lines=lines, reason=reason).refusal()

    one = ReturnLine(line_id=1, quantity=D("1"))
    assert str(asked([])) == "Say which lines come back and how many of each."
    assert asked([ReturnLine(line_id=1, quantity=D("0"))]) is not None
    assert str(asked([one, one])) == "Line 1 is listed twice."
    assert str(asked([one], reason="  ")) == "Say why the goods come back."
    assert asked([one]) is None


def test_a_receipt_takes_restock_or_scrap_and_no_more_than_expected():
    def receipt(*lines, close=False, why=""):
        return ReturnReceipt(
            todo_key="k", actor=ACTOR, lines=list(lines), close_rest=close, close_reason=why
        )

    def got(line_id, quantity, condition):
        return ReceivedLine(line_id=line_id, quantity=D(quantity), condition=condition)

    assert str(receipt(got(1, "1", "resell")).refusal()) == (
        "Line 1: the condition must be restock or scrap."
    )
    assert receipt().refusal() is not None  # nothing received, nothing closed
    assert str(receipt(close=True).refusal()) == (
        "Say why the rest of the return will not come back."
    )
    assert receipt(close=True, why="lost in transit").refusal() is None
    split = receipt(got(1, "2", "restock"), got(1, "1", "scrap"))
    assert split.refusal() is None and split.received() == {1: D("3")}
    assert split.room_refusal({1: D("3")}) is None
    assert str(split.room_refusal({1: D("2")})) == (
        "Line 1: 3 received is more than the 2 still expected back."
    )
