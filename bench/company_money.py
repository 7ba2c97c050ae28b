"""The money side of an order's life for bench/company_orders.py: the payment plan's
installments and the payments that settle them, the invoice, the cost review and closing once
all is paid, a cancellation's refund, and a return with its refund and credit note."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from bench.inbox import stamp

if TYPE_CHECKING:
    from bench.company_orders import Life


def hours(value: float) -> timedelta:
    return timedelta(hours=value)


def days(value: float) -> timedelta:
    return timedelta(days=value)


class MoneySteps:
    """Steps of Lives (bench/company_orders.py), which has the rows, the clock and the to-dos."""

    def collection(self, life: Life) -> None:
        """The payment plan (all on confirmation, or 30 % then 70 % 30 days after acceptance),
        the payments, the invoice at acceptance, and the cost review and closing once paid."""
        rng, at = self.rng, life.at
        if not self.happened(life, at["confirmed"]):
            return
        first = 100 if rng.random() < 0.4 else 30
        parts = [(first, at["confirmed"].date(), "confirmation", 0)]
        if first < 100:
            parts.append((70, at["accepted"].date() + days(30), "acceptance", 30))
        paid_up = self.installments(life, parts)
        if self.happened(life, at["accepted"]) and life.cancelled_at is None:
            self.invoice(life, at["accepted"] + days(rng.uniform(0, 3)))
        if paid_up is None:
            return
        at["cost_review_started"] = max(paid_up, at["accepted"]) + days(rng.uniform(1, 10))
        at["closed"] = at["cost_review_started"] + days(rng.uniform(1, 5))
        ops = self.staff("ops")
        self.event(life, "cost_review_started", at["cost_review_started"], None)
        self.todo(
            life, "review_variance", at["cost_review_started"], at["closed"], ops,
            (None, "ops", None),
        )  # fmt: skip
        self.event(life, "closed", at["closed"], ops)
        if not self.happened(life, at["closed"]):
            del at["closed"]

    def installments(self, life: Life, parts: list[tuple[int, date, str, int]]) -> datetime | None:
        """The installments and their payments; when the last was confirmed (None: not all)."""
        rng, today = self.rng, self.c.now.date()
        left, last, all_paid = life.total, None, True
        for position, (percent, due, trigger, offset) in enumerate(parts, start=1):
            amount = round(life.total * percent / 100, 2) if position < len(parts) else left
            left = round(left - amount, 2)
            inst = self.new_id("installments")
            late = rng.random() < 0.07 and position > 1  # a slow payer: not paid yet
            registered = datetime.combine(due, life.at["confirmed"].timetz()) + days(
                rng.uniform(0, 10) if position == 1 else rng.uniform(-10, 25)
            )
            registered = max(registered, life.at["confirmed"] + hours(1))
            decided = registered + hours(rng.uniform(2, 30))
            due_known = position == 1 or self.happened(life, life.at["accepted"])
            paid = not late and due_known and self.happened(life, decided)
            if paid:
                self.payment(life, inst, amount, registered, decided)
                last = decided if last is None or decided > last else last
            else:
                all_paid = False
            if not paid and due_known and life.cancelled_at is None:
                life.open_due.append(due)
            open_amount = amount if paid or life.cancelled_at is None else 0.0
            overdue = not paid and due_known and due < today and life.cancelled_at is None
            self.rows["installments"].append((
                inst, life.n, position, percent, trigger, offset,
                open_amount if not paid else amount, amount if paid else 0.0,
                paid or life.cancelled_at is not None, due.isoformat() if due_known else None,
                decided.date().isoformat() if paid else None,
                due.isoformat() if overdue else None,
            ))  # fmt: skip
        settled = all_paid and life.cancelled_at is None
        return last if settled else None

    def payment(
        self, life: Life, installment: int, amount: float, registered: datetime, decided: datetime
    ) -> None:
        payment = self.new_id("payments")
        life.payments += 1
        number = life.payments
        finance = self.staff("finance")
        self.rows["payments"].append((
            payment, life.n, number, amount, registered.date().isoformat(), "bank_transfer",
            f"BANK-{payment}", "confirmed", life.owner, stamp(registered), finance, stamp(decided),
        ))  # fmt: skip
        self.rows["payment_allocations"].append((payment, installment, amount))
        self.todo(life, "confirm_payment", registered, decided, finance, (None, "finance", None))
        self.event(life, "payment_confirmed", decided, finance)
        life.paid = round(life.paid + amount, 2)

    def invoice(self, life: Life, applied: datetime) -> None:
        """One invoice for the total, applied for after acceptance and issued by finance."""
        issued = applied + hours(self.rng.uniform(2, 48))
        finance = self.staff("finance")
        if not self.happened(life, applied):
            return
        done = self.happened(life, issued)
        life.invoice = invoice = self.new_id("invoices")
        self.rows["invoices"].append((
            invoice, life.n, 1, life.total, "Bench customer", "", "",
            "issued" if done else "requested", f"INV-{life.n}" if done else None, life.owner,
            stamp(applied), finance if done else None, stamp(issued) if done else None,
        ))  # fmt: skip
        self.todo(life, "issue_invoice", applied, issued, finance, (None, "finance", None))
        if done:
            life.invoiced = life.total
            self.event(life, "invoice_issued", issued, finance)

    def cancellation(self, life: Life) -> None:
        """Approved by the owner's manager; the money received goes back by a refund."""
        cancelled = life.cancelled_at
        assert cancelled is not None
        asked = cancelled - hours(self.rng.uniform(2, 48))
        self.todo(
            life, "approve_cancellation", asked, cancelled, life.approver,
            (None, None, life.department),
        )  # fmt: skip
        self.event(life, "cancelled", cancelled, life.approver)
        status = "cancelled"
        if life.paid:
            paid_back = cancelled + days(self.rng.uniform(1, 5))
            status = self.refund(life, life.paid, cancelled, paid_back)
        self.rows["cancellations"].append((
            life.n, 1, "customer_request", "The customer no longer needs it.", status,
            life.owner, stamp(asked), life.approver, stamp(cancelled),
            stamp(cancelled) if status == "cancelled" else None,
        ))  # fmt: skip

    def refund(self, life: Life, due: float, asked: datetime, paid_back: datetime) -> str:
        """A refund finance pay back (pending until then); the cancellation's status."""
        done = paid_back <= self.c.now
        finance = self.staff("finance")
        key = f"bench-{life.n}/confirm_refund"
        self.rows["refunds"].append((
            life.n, 1, key, due, due if done else None, "refunded" if done else "pending",
            paid_back.date().isoformat() if done else None, "bank_transfer" if done else None,
            f"RF-{life.n}" if done else None, finance if done else None,
            stamp(paid_back) if done else None, stamp(asked),
        ))  # fmt: skip
        cut, life.cancelled_at = life.cancelled_at, None  # the refund is after the cancellation
        self.todo(life, "confirm_refund", asked, paid_back, finance, (None, "finance", None))
        life.cancelled_at = cut
        return "cancelled" if done else "refunding"

    def a_return(self, life: Life) -> None:
        """Part of one line comes back after closing (all paid): its value is refunded and
        credited on the invoice."""
        rng, now = self.rng, self.c.now
        asked = life.at["closed"] + days(rng.uniform(1, 30))
        received = asked + days(rng.uniform(3, 10))
        if received > now or life.invoice is None:
            return
        line = rng.choice([r for r in self.rows["order_lines"] if r[1] == life.n])
        quantity = max(1, int(line[4] * rng.uniform(0.1, 0.5)))
        unit_net = round(line[7] / line[4], 2)
        value = round(quantity * unit_net, 2)
        returned = self.new_id("order_returns")
        self.rows["order_returns"].append((
            returned, life.n, 1, "received", "Damaged in transit.", life.owner, stamp(asked),
            life.approver, stamp(asked + hours(6)), 1, value, stamp(received),
        ))  # fmt: skip
        self.rows["order_return_lines"].append(
            (returned, line[0], quantity, quantity, quantity, 0, unit_net, value)
        )
        self.todo(life, "approve_return", asked, asked + hours(6), life.approver,
                  (None, None, life.department))  # fmt: skip
        warehouse = self.staff("warehouse")
        self.todo(life, "receive_return", asked + hours(6), received, warehouse,
                  (None, "warehouse", None))  # fmt: skip
        self.event(life, "return_requested", asked, life.owner)
        self.event(life, "return_received", received, warehouse)
        life.returned = value
        self.refund(life, value, received, received + days(rng.uniform(1, 6)))
        issued = received + days(rng.uniform(1, 4))
        done = issued <= now
        finance = self.staff("finance")
        self.rows["credit_notes"].append((
            life.n, None, returned, f"bench-{life.n}/issue_credit_note", value,
            "issued" if done else "requested", f"CN-{life.n}" if done else None,
            finance if done else None, stamp(issued) if done else None, stamp(received),
        ))  # fmt: skip
        self.todo(life, "issue_credit_note", received, issued, finance, (None, "finance", None))
