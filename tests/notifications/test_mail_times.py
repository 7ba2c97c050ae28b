"""Times in mail (issue 18, defect 9): a mail has no page around it to say which zone its times
are in, so each time is written in the company's time zone with the zone named, in the
recipient's language: "Dec 5, 2026, 18:38 China Standard Time" for an English reader,
"2026年12月5日 18:38（中国标准时间）" for a Chinese one, and in the zone an administrator saved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from activities.store import StepStore
from models.domain import ShippingMode
from models.drafts import DraftLine, DraftOrder, create_draft
from models.tables import CompanySettings, Customer, OutboxMail, Product, Todo, User
from tests import helpers
from tests.web.test_i18n import needs_catalog, zh_catalog_compiled  # noqa: F401
from tests.workflows.test_order import estimate
from worker import build_worker

OPENED = datetime(2026, 12, 4, 10, 38, tzinfo=UTC)  # 18:38 in Shanghai
DUE = OPENED + timedelta(days=1)


async def draft(session_factory):
    async with session_factory() as session:
        customer = await session.scalar(select(Customer).order_by(Customer.id))
        product = await session.scalar(select(Product).where(Product.code == "PUMP-10"))
        owner = await session.scalar(select(User).where(User.username == "sales"))
        return await create_draft(
            session=session,
            user=owner,
            draft=DraftOrder(
                customer_id=customer.id,
                shipping_mode=ShippingMode.domestic,
                requested_delivery_date=(datetime.now(UTC) + timedelta(days=60)).date(),
                lines=[DraftLine(product_id=product.id, quantity=Decimal("2"))],
            ),
        )


async def reader(session, username: str, locale: str | None) -> User:
    user = await session.scalar(select(User).where(User.username == username))
    assert user is not None
    user.locale = locale
    return user


async def mail_a_todo(session_factory, settings, *, zone: str | None = None) -> dict[str, str]:
    """A to-do opened at OPENED, due at DUE, mailed to an English and a Chinese reader through
    the step recorder every activity uses; the bodies by username."""
    order = await draft(session_factory)
    store = StepStore(session_factory, base_url=settings.base_url, clock=lambda: OPENED)
    async with store.step() as session:
        if zone is not None:
            session.add(CompanySettings(id=1, time_zone=zone))
        english = await reader(session, "sales_manager", "en")
        chinese = await reader(session, "director", "zh_CN")
        rec = store.recorder(session)
        todo = Todo(
            key=f"test/{order.number}/approve", order_id=order.id, kind="approve",
            workflow_id=f"order-{order.number}/approval/1", created_at=OPENED, due_at=DUE,
        )  # fmt: skip
        session.add(todo)
        await session.flush()
        loaded = await store.order(session, order_id=order.id, with_lines=False)
        await rec.mail_todo(todo, order=loaded, users=[english, chinese])
        await session.commit()
    async with session_factory() as session:
        mails = await session.scalars(select(OutboxMail).where(OutboxMail.key.like("test/%")))
        return {m.to_address.split("@")[0]: m.body for m in mails}


@needs_catalog
async def test_a_todo_mail_says_when_it_is_due_in_shanghai_time_in_each_readers_language(
    session_factory, settings
):
    bodies = await mail_a_todo(session_factory, settings)
    assert "Due by Dec 5, 2026, 18:38 China Standard Time." in bodies["sales_manager"]
    assert "2026年12月5日 18:38（中国标准时间）" in bodies["director"]
    for body in bodies.values():
        assert "10:38" not in body and "2026-12-05" not in body and "UTC" not in body
    assert "Dec" not in bodies["director"]


@needs_catalog
async def test_mail_follows_the_time_zone_the_administrator_saved(session_factory, settings):
    bodies = await mail_a_todo(session_factory, settings, zone="Europe/Berlin")
    assert "Due by Dec 5, 2026, 11:38 Central European Standard Time." in bodies["sales_manager"]
    assert "2026年12月5日 11:38（中欧标准时间）" in bodies["director"]


@needs_catalog
async def test_the_approval_mail_of_a_real_order_names_the_zone_of_its_deadline(
    env, session_factory, settings
):
    """Through the workflow: pricing's estimate opens the manager's approval, whose mail (in
    Chinese, the manager's choice) says until when it is due and the decision link works."""
    async with session_factory() as session:
        await reader(session, "sales_manager", "zh_CN")
        await session.commit()
    order = await draft(session_factory)
    async with build_worker(env.client, session_factory, settings):
        await helpers.submit(env.client, session_factory, order, settings.task_queue)
        await estimate(env.client, session_factory, order)
        await helpers.open_todos(session_factory, order, "approve")
    async with session_factory() as session:
        mails = list(
            await session.scalars(
                select(OutboxMail).where(OutboxMail.to_address == "sales_manager@o2c.example.com")
            )
        )
    [mail] = [m for m in mails if order.number in m.subject]
    assert "（中国标准时间）" in mail.body  # the due time and the link's end, zone named
    assert "UTC" not in mail.body and "Dec" not in mail.body
