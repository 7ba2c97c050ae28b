"""An order as a change request would make it: its lines priced as a draft's are and its terms
compared (the change step weighs and applies it; the order page previews its diff)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.dates import requested_delivery_refusal
from models.domain import PaymentPlanItem, PaymentTrigger, Refusal
from models.domain.changes import ChangeRequest, LineChange, OrderTerms, TermLine
from models.tables import Order, OrderLine, Product
from workflows import rules

NO_SUCH_LINE = "Line %(number)s: the order has no line %(line)s."
NO_SUCH_PRODUCT = "Line %(n)s: there is no product %(product)s."
PLAN_NOT_100 = "The payment plan's percentages must add up to exactly 100."
FIXED_DATE_MISSING = "Installment %(n)s is due on a fixed date but has no date."


@dataclass
class ChangedLine:
    """A line as the change makes it: an order line kept (`line`), or a new one (`line` None,
    its key "new-<n>" and its id in the facts -n)."""

    key: str
    line: OrderLine | None
    product: Product
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    amount: Decimal = Decimal("0")

    @property
    def facts_id(self) -> int:
        """Its id in the facts and a new estimate: the order line's, or -n for the n-th new."""
        return self.line.id if self.line is not None else -int(self.key.removeprefix("new-"))

    @property
    def same_goods(self) -> bool:
        """Its product and quantity as they were: the line keeps its estimated unit cost."""
        return self.line is not None and self.line.quantity == self.quantity


@dataclass
class ChangedOrder:
    """The order before and after the change, with the changed lines and the ones removed."""

    before: OrderTerms
    after: OrderTerms
    lines: list[ChangedLine]
    removed: list[OrderLine]
    list_total: Decimal

    @property
    def needs_estimate(self) -> bool:
        """Products or quantities changed (a line added, removed or its quantity changed)."""
        return bool(self.removed) or not all(line.same_goods for line in self.lines)


def plan_of(order: Order) -> list[PaymentPlanItem]:
    return [
        PaymentPlanItem(
            percent=item.percent,
            trigger=PaymentTrigger(item.trigger),
            offset_days=item.offset_days,
            fixed_date=item.fixed_on,
        )
        for item in order.payment_plan
    ]


def terms_of(order: Order, plan: list[PaymentPlanItem]) -> OrderTerms:
    """The order's terms as they stand (lines loaded with their products)."""
    return OrderTerms(
        lines=[
            TermLine(
                key=str(ln.id),
                product_code=ln.product.code,
                quantity=ln.quantity,
                unit_price=ln.unit_price,
                discount_percent=ln.discount_percent,
                amount=ln.amount,
            )
            for ln in order.lines
        ],
        order_discount_percent=order.order_discount_percent,
        target_total=order.target_total,
        requested_delivery_date=order.requested_delivery_on,
        payment_plan=plan,
        total=order.total,
    )


async def changed_order(
    session: AsyncSession, order: Order, change: ChangeRequest, *, today: date
) -> ChangedOrder:
    """Price the order as the change makes it, as a draft is priced: an existing line keeps
    its unit price unless the change gives one, a new line is at the list price unless it
    gives one; then the whole-order discount or target total (the change's, else the
    order's). Raises the Refusal that says what is wrong with the change."""
    if refusal := change.refusal():
        raise refusal
    await session.refresh(order, ["payment_plan"])  # the store loads lines, not the plan
    plan = plan_of(order)
    lines = await _changed_lines(session, order, change.lines)
    discount, target = _adjustment(order, change)
    priced = rules.price_order(
        [
            rules.LineInput(
                quantity=ln.quantity, unit_price=ln.unit_price, discount_percent=ln.discount_percent
            )
            for ln in lines
        ],
        order_discount_percent=discount,
        target_total=target,
    )  # raises PricingError, a Refusal
    for line, amount in zip(lines, priced.line_amounts, strict=True):
        line.amount = amount
    delivery = order.requested_delivery_on
    if change.requested_delivery_date is not None:
        if refusal := requested_delivery_refusal(change.requested_delivery_date, today=today):
            raise refusal
        delivery = change.requested_delivery_date
    new_plan = plan if change.payment_plan is None else _checked_plan(change.payment_plan)
    kept = {ln.line.id for ln in lines if ln.line is not None}
    after = OrderTerms(
        lines=[
            TermLine(
                key=ln.key,
                product_code=ln.product.code,
                quantity=ln.quantity,
                unit_price=ln.unit_price,
                discount_percent=ln.discount_percent,
                amount=ln.amount,
            )
            for ln in lines
        ],
        order_discount_percent=discount,
        target_total=target,
        requested_delivery_date=delivery,
        payment_plan=new_plan,
        total=priced.total,
    )
    list_total = sum((ln.quantity * ln.product.list_price for ln in lines), Decimal("0"))
    return ChangedOrder(
        before=terms_of(order, plan),
        after=after,
        lines=lines,
        removed=[ln for ln in order.lines if ln.id not in kept],
        list_total=rules.money(list_total),
    )


def _adjustment(order: Order, change: ChangeRequest) -> tuple[Decimal | None, Decimal | None]:
    """The whole-order discount and target total after the change: the one it gives replaces
    both, else the order's stay."""
    if change.order_discount_percent is not None:
        return change.order_discount_percent, None
    if change.target_total is not None:
        return None, change.target_total
    return order.order_discount_percent, order.target_total


async def _changed_lines(
    session: AsyncSession, order: Order, changes: Sequence[LineChange] | None
) -> list[ChangedLine]:
    if changes is None:  # the lines stay; their amounts may still follow a new discount
        return [
            ChangedLine(str(ln.id), ln, ln.product, ln.quantity, ln.unit_price, ln.discount_percent)
            for ln in order.lines
        ]
    existing = {ln.id: ln for ln in order.lines}
    wanted = {c.product_id for c in changes if c.product_id is not None}
    products = {
        p.id: p
        for p in await session.scalars(select(Product).where(Product.id.in_(wanted)))
        if p.active
    }
    lines, added = [], 0
    for number, change in enumerate(changes, start=1):
        if change.line_id is not None:
            line = existing.get(change.line_id)
            if line is None:
                raise Refusal(NO_SUCH_LINE, number=number, line=change.line_id)
            price = line.unit_price if change.unit_price is None else change.unit_price
            discount = change.discount_percent
            if discount is None:  # not given: the line keeps its discount, as its price
                discount = line.discount_percent
            lines.append(
                ChangedLine(str(line.id), line, line.product, change.quantity, price, discount)
            )
            continue
        product = products.get(change.product_id or 0)
        if product is None:
            raise Refusal(NO_SUCH_PRODUCT, n=number, product=change.product_id)
        added += 1
        price = product.list_price if change.unit_price is None else change.unit_price
        discount = change.discount_percent or Decimal("0")
        lines.append(ChangedLine(f"new-{added}", None, product, change.quantity, price, discount))
    return lines


def _checked_plan(plan: list[PaymentPlanItem]) -> list[PaymentPlanItem]:
    if sum((item.percent for item in plan), Decimal("0")) != rules.HUNDRED:
        raise Refusal(PLAN_NOT_100)
    for n, item in enumerate(plan, start=1):
        if item.trigger == PaymentTrigger.fixed_date and item.fixed_date is None:
            raise Refusal(FIXED_DATE_MISSING, n=n)
    return plan
