"""Order entry before submission: a draft is its owner's to edit; pricing is computed here."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, cast

from pydantic import BaseModel, Field, field_validator, model_validator
from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from i18n import N_
from models.dates import fixed_payment_date_refusal, requested_delivery_refusal
from models.db import dialect_insert
from models.domain import (
    PaymentPlanItem,
    PaymentTrigger,
    Refusal,
    ShippingMode,
    Stage,
)
from models.policy import current_collection_policy
from models.tables import Customer, Order, OrderLine, OrderNumberCounter, Product, TimelineEvent
from models.tables import PaymentPlanItem as PaymentPlanRow
from models.tables import User as UserRow
from settings import get_settings
from workflows.rules import LineInput, PricingError, price_order


class DraftError(Refusal):
    """A draft that cannot be saved; the message tells the person what to fix."""


# Ranges (positive quantity and price, discounts 0-100 %) are checked by workflows.rules.
# price_order, whose messages name the line as people count it; pydantic checks the types.
class DraftLine(BaseModel):
    product_id: int
    quantity: Decimal = Field(max_digits=15, decimal_places=3)
    unit_price: Decimal | None = Field(default=None, max_digits=16, decimal_places=2)
    discount_percent: Decimal = Field(default=Decimal("0"), max_digits=7, decimal_places=3)


class DraftOrder(BaseModel):
    customer_id: int
    shipping_mode: ShippingMode = ShippingMode.domestic
    requested_delivery_date: date | None = None
    lines: list[DraftLine]
    order_discount_percent: Decimal | None = Field(default=None, max_digits=7, decimal_places=3)
    target_total: Decimal | None = Field(default=None, max_digits=16, decimal_places=2)
    payment_plan: list[PaymentPlanItem] = Field(default_factory=list)
    # Or a plan the collection policy offers by name ("30/60/10"), copied onto the order.
    payment_plan_name: str | None = Field(default=None, max_length=40)

    @model_validator(mode="after")
    def _one_order_level_adjustment(self) -> DraftOrder:
        if self.order_discount_percent is not None and self.target_total is not None:
            raise ValueError("Give either a whole-order discount or a target total, not both.")
        return self

    @model_validator(mode="after")
    def _one_payment_plan(self) -> DraftOrder:
        if self.payment_plan and self.payment_plan_name:
            raise ValueError("Give either a payment plan or the name of one, not both.")
        return self

    @field_validator("lines")
    @classmethod
    def _some_lines(cls, lines: list[DraftLine]) -> list[DraftLine]:
        if not lines:
            raise ValueError("An order needs at least one line.")
        return lines

    @field_validator("payment_plan")
    @classmethod
    def _plan_sums_to_100(cls, plan: list[PaymentPlanItem]) -> list[PaymentPlanItem]:
        if plan and sum(item.percent for item in plan) != 100:
            raise ValueError("The payment plan's percentages must add up to exactly 100.")
        for n, item in enumerate(plan, start=1):
            if item.trigger == PaymentTrigger.fixed_date and item.fixed_date is None:
                raise ValueError(f"Installment {n} is due on a fixed date but has no date.")
        return plan


DEFAULT_PLAN = [PaymentPlanItem(percent=Decimal("100"), trigger=PaymentTrigger.confirmation)]
TOO_MANY_LINES = N_("An order can have at most %(limit)s lines.")


def merged_draft(stored: DraftOrder, changes: Mapping[str, Any]) -> dict[str, Any]:
    """A stored draft with the given fields in place of its own (JSON merge patch): a given list
    replaces the whole list, None clears a field, an absent field keeps its value. A cleared
    plan is the default one; a plan named alone replaces the stored plan, which an order keeps
    as its installments, not by name. Validate the result as a DraftOrder."""
    merged = stored.model_dump() | dict(changes)
    if merged["payment_plan"] is None or (
        changes.get("payment_plan_name") and "payment_plan" not in changes
    ):
        merged["payment_plan"] = []
    return merged


def check_entry(draft: DraftOrder, plan: list[PaymentPlanItem], *, today: date) -> None:
    """What a saved order may hold besides well-formed values: at most the configured number
    of lines (its workflow carries them all in payloads Temporal caps at 2 MB), and dates in
    a sensible window. Checked when a draft is saved, not when one is read back, so an order
    entered before a limit was lowered still opens."""
    limit = get_settings().max_order_lines
    if len(draft.lines) > limit:
        raise DraftError(TOO_MANY_LINES, limit=limit)
    refusal = requested_delivery_refusal(draft.requested_delivery_date, today=today)
    for n, item in enumerate(plan, start=1):
        refusal = refusal or fixed_payment_date_refusal(item.fixed_date, installment=n, today=today)
    if refusal is not None:
        raise DraftError(refusal.template, **refusal.params)


async def next_order_number(session: AsyncSession, year: int) -> str:
    """SO-<year>-<5 digits>, unique and sequential per year (row-locked counter)."""
    await session.execute(
        dialect_insert(session)(OrderNumberCounter)
        .values(year=year, last=0)
        .on_conflict_do_nothing()
    )
    last = await session.scalar(
        update(OrderNumberCounter)
        .where(OrderNumberCounter.year == year)
        .values(last=OrderNumberCounter.last + 1)
        .returning(OrderNumberCounter.last)
    )
    return f"SO-{year}-{last:05d}"


async def _priced_lines(
    session: AsyncSession, draft: DraftOrder
) -> tuple[list[OrderLine], Decimal, Decimal]:
    products = {
        p.id: p
        for p in await session.scalars(
            select(Product).where(Product.id.in_({ln.product_id for ln in draft.lines}))
        )
    }
    for n, line in enumerate(draft.lines, start=1):
        product = products.get(line.product_id)
        if product is None or not product.active:
            raise DraftError(
                "Line %(n)s: there is no product %(product)s.", n=n, product=line.product_id
            )
    inputs = [
        LineInput(
            quantity=ln.quantity,
            unit_price=(
                ln.unit_price if ln.unit_price is not None else products[ln.product_id].list_price
            ),
            discount_percent=ln.discount_percent,
        )
        for ln in draft.lines
    ]
    try:
        priced = price_order(
            inputs,
            order_discount_percent=draft.order_discount_percent,
            target_total=draft.target_total,
        )
    except PricingError as error:
        raise DraftError(error.template, **error.params) from error
    lines = [
        OrderLine(
            position=n,
            product_id=ln.product_id,
            quantity=ln.quantity,
            unit_price=inp.unit_price,
            discount_percent=ln.discount_percent,
            amount=amount,
        )
        for n, (ln, inp, amount) in enumerate(
            zip(draft.lines, inputs, priced.line_amounts, strict=True), start=1
        )
    ]
    list_total = sum(
        (ln.quantity * products[ln.product_id].list_price for ln in draft.lines), Decimal("0")
    )
    return lines, priced.total, list_total.quantize(Decimal("0.01"))


async def _customer(session: AsyncSession, customer_id: int) -> Customer:
    customer = await session.get(Customer, customer_id)
    if customer is None:
        raise DraftError("There is no customer %(customer)s.", customer=customer_id)
    return customer


async def _plan(session: AsyncSession, draft: DraftOrder) -> list[PaymentPlanItem]:
    """The draft's own plan, the policy's plan it names, or the default (all on confirmation)."""
    name = (draft.payment_plan_name or "").strip()
    if not name:
        return draft.payment_plan or DEFAULT_PLAN
    policy = await current_collection_policy(session=session)
    for plan in policy.plans:
        if plan.name.casefold() == name.casefold():
            return plan.items
    raise DraftError(
        "There is no payment plan named %(name)s; choose one of: %(names)s.",
        name=name,
        names=", ".join(p.name for p in policy.plans),
    )


def _plan_rows(plan: list[PaymentPlanItem]) -> list[PaymentPlanRow]:
    return [
        PaymentPlanRow(
            position=n,
            percent=item.percent,
            trigger=item.trigger.value,
            offset_days=item.offset_days,
            fixed_on=item.fixed_date,
        )
        for n, item in enumerate(plan, start=1)
    ]


async def _with_lines(session: AsyncSession, order: Order) -> Order:
    """The caller's order read again with its lines and payment plan."""
    with_lines = await session.scalar(
        select(Order)
        .where(Order.id == order.id)
        .options(selectinload(Order.lines), selectinload(Order.payment_plan))
    )
    assert with_lines is not None  # the caller's order, so it exists
    return with_lines


async def create_draft(
    *, session: AsyncSession, user: UserRow, draft: DraftOrder, repeated_from: str | None = None
) -> Order:
    now = datetime.now(UTC)
    plan = await _plan(session, draft)
    check_entry(draft, plan, today=now.date())
    await _customer(session, draft.customer_id)
    lines, total, list_total = await _priced_lines(session, draft)
    order = Order(
        number=await next_order_number(session, now.year),
        customer_id=draft.customer_id,
        owner_id=user.id,
        department_id=user.department_id,
        shipping_mode=draft.shipping_mode.value,
        requested_delivery_on=draft.requested_delivery_date,
        order_discount_percent=draft.order_discount_percent,
        target_total=draft.target_total,
        list_total=list_total,
        total=total,
        stage=Stage.draft.value,
        repeated_from=repeated_from,
        created_at=now,
        updated_at=now,
        lines=lines,
        payment_plan=_plan_rows(plan),
    )
    session.add(order)
    await session.flush()
    session.add(
        TimelineEvent(
            key=f"order-{order.number}/created",
            order_id=order.id,
            at=now,
            actor_id=user.id,
            kind="created",
            details={"repeated_from": repeated_from} if repeated_from else {},
        )
    )
    await session.commit()
    return order


def is_editable(order: Order) -> bool:
    """A draft until it is submitted, or an order its workflow sent back for revision."""
    if order.stage == Stage.revising.value:
        return True
    return order.stage == Stage.draft.value and order.submitted_at is None


async def mark_submitted(*, session: AsyncSession, order: Order) -> bool:
    """Take the draft out of its owner's hands, once: False when it was already submitted.
    From here on its workflow is the only writer."""
    result = await session.execute(
        update(Order)
        .where(Order.id == order.id, Order.stage == Stage.draft.value, Order.submitted_at.is_(None))
        .values(submitted_at=datetime.now(UTC))
    )
    await session.commit()
    # An UPDATE's result is a CursorResult; Session.execute's signature only says Result.
    return cast("CursorResult[Any]", result).rowcount == 1


async def update_draft(*, session: AsyncSession, order: Order, draft: DraftOrder) -> Order:
    """Replace a draft's (or a revised order's) content. A line keeps its cost estimate only when
    its product and quantity are unchanged, so a revision that changes what is sold goes back to
    pricing."""
    if not is_editable(order):
        raise DraftError(
            "Order %(number)s is submitted and can no longer be edited.", number=order.number
        )
    plan = await _plan(session, draft)
    check_entry(draft, plan, today=datetime.now(UTC).date())
    await _customer(session, draft.customer_id)
    new_lines, total, list_total = await _priced_lines(session, draft)
    order = await _with_lines(session, order)
    old_lines = {ln.position: ln for ln in order.lines}
    kept: list[OrderLine] = []
    for new in new_lines:
        old = old_lines.pop(new.position, None)
        if old is None:
            kept.append(new)
            continue
        same_goods = old.product_id == new.product_id and old.quantity == new.quantity
        old.product_id, old.quantity = new.product_id, new.quantity
        old.unit_price, old.discount_percent = new.unit_price, new.discount_percent
        old.amount = new.amount
        old.unit_cost = old.unit_cost if same_goods else None
        kept.append(old)
    order.lines = kept
    order.payment_plan = _plan_rows(plan)
    order.customer_id = draft.customer_id
    order.shipping_mode = draft.shipping_mode.value
    order.requested_delivery_on = draft.requested_delivery_date
    order.order_discount_percent = draft.order_discount_percent
    order.target_total = draft.target_total
    order.total, order.list_total = total, list_total
    order.updated_at = datetime.now(UTC)
    await session.commit()
    return order


async def draft_of(*, session: AsyncSession, order: Order) -> DraftOrder:
    """The entry form's content of an existing order (to edit it, or to repeat it)."""
    order = await _with_lines(session, order)
    return DraftOrder(
        customer_id=order.customer_id,
        shipping_mode=ShippingMode(order.shipping_mode),
        requested_delivery_date=order.requested_delivery_on,
        lines=[
            DraftLine(
                product_id=ln.product_id,
                quantity=ln.quantity,
                unit_price=ln.unit_price,
                discount_percent=ln.discount_percent,
            )
            for ln in order.lines
        ],
        order_discount_percent=order.order_discount_percent,
        target_total=order.target_total,
        payment_plan=[
            PaymentPlanItem(
                percent=item.percent,
                trigger=PaymentTrigger(item.trigger),
                offset_days=item.offset_days,
                fixed_date=item.fixed_on,
            )
            for item in order.payment_plan
        ],
    )


async def repeat_order(*, session: AsyncSession, user: UserRow, order: Order) -> Order:
    """A new draft with a past order's customer, lines, prices, discounts and payment plan; the
    delivery date is left for the new order."""
    draft = await draft_of(session=session, order=order)
    draft.requested_delivery_date = None
    return await create_draft(session=session, user=user, draft=draft, repeated_from=order.number)
