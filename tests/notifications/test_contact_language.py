"""Mail to a customer's contact through a real SMTP server (aiosmtpd), in the contact's own
language: the seeded Hangzhou Green Foods contact reads Simplified Chinese, the order's owner
English. Subject and body are translated, money and dates written the Chinese way, and the
arrival link in the dispatch mail is the contact's own working link."""

from __future__ import annotations

import asyncio
import re
import socket
from datetime import date, timedelta
from decimal import Decimal
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from i18n import Formatter, translations
from i18n.labels import EVENTS
from models.domain import ShippingMode
from models.domain.changes import ChangeRequest, LineChange
from models.drafts import DraftLine, DraftOrder, create_draft
from models.links import ContactLinks
from models.tables import Contact, Customer, Order, OrderLine, Product, User
from notifications.mail import Mailer, render
from tests import helpers
from tests.web.test_i18n import needs_catalog, zh_catalog_compiled  # noqa: F401
from tests.workflows.test_changes import decide_change, order_handle, settled
from tests.workflows.test_order import decide, estimate
from tests.workflows.test_shipment import dispatch, plan
from worker import build_worker
from workflows.order import OrderWorkflow

HANGZHOU = "Hangzhou Green Foods Ltd."
YANG_LING = "yang.ling@hzgf.example.com"  # seeded with zh_CN
OWNER = "sales@o2c.example.com"  # Wang Fang, English


class Inbox:
    """An aiosmtpd handler that keeps what it receives, headers decoded."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    async def wait_for(self, address: str, subject_part: str) -> EmailMessage:
        for _ in range(400):
            found = [m for m in self.to(address) if subject_part in m["Subject"]]
            if found:
                return found[-1]
            await asyncio.sleep(0.05)
        subjects = [(m["To"], m["Subject"]) for m in self.messages]
        raise AssertionError(f"no mail to {address} about {subject_part!r}: {subjects}")


def body_of(message: EmailMessage) -> str:
    return message.get_content()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


@pytest.fixture
async def worker(env, session_factory, settings, smtp):
    _, port = smtp
    mailer = Mailer(host="127.0.0.1", port=port, sender="o2c@example.com")
    async with build_worker(env.client, session_factory, settings, mailer=mailer) as running:
        yield running


async def hangzhou_order(env, session_factory, settings, delivery: date) -> Order:
    """An order of the seeded Chinese-speaking customer, estimated, approved and confirmed."""
    async with session_factory() as session:
        customer = await session.scalar(select(Customer).where(Customer.name == HANGZHOU))
        product = await session.scalar(select(Product).where(Product.code == "PUMP-10"))
        owner = await session.scalar(select(User).where(User.username == "sales"))
        order = await create_draft(
            session=session,
            user=owner,
            draft=DraftOrder(
                customer_id=customer.id,
                shipping_mode=ShippingMode.domestic,
                requested_delivery_date=delivery,
                lines=[DraftLine(product_id=product.id, quantity=Decimal("2"))],
            ),
        )
    handle = await helpers.submit(env.client, session_factory, order, settings.task_queue)
    await estimate(env.client, session_factory, order, unit_cost="1000")
    await decide(env.client, session_factory, order, "sales_manager")
    return await helpers.confirmed(handle, session_factory, order)


async def test_the_seeded_hangzhou_contact_reads_chinese_and_the_others_english(
    session_factory,
):
    async with session_factory() as session:
        rows = await session.execute(select(Contact.email, Contact.language))
        languages = {email: language for email, language in rows}
    assert languages.pop(YANG_LING) == "zh_CN"
    assert set(languages.values()) == {"en"}


async def test_an_approved_change_mails_the_chinese_contact_in_chinese_and_the_owner_in_english(
    env, session_factory, settings, smtp, worker
):
    inbox, _ = smtp
    delivery = date.today() + timedelta(days=60)
    order = await hangzhou_order(env, session_factory, settings, delivery)

    confirmed = await inbox.wait_for(YANG_LING, order.number)
    assert confirmed["Subject"] == f"销售订单 {order.number}：销售订单已确认"
    text = body_of(confirmed)
    assert "Yang Ling，您好：" in text
    assert f"您的订单 {order.number} 已确认，订单总额为 ¥17,000.00。" in text
    assert f"要求交货日期：{delivery.year}年{delivery.month}月{delivery.day}日。" in text
    assert "Hello" not in text and "Order" not in text and "CN¥" not in text

    async with session_factory() as session:
        [line] = await session.scalars(select(OrderLine.id).where(OrderLine.order_id == order.id))
    later = delivery + timedelta(days=30)
    asked = ChangeRequest(
        actor=await helpers.actor(session_factory, "sales"),
        reason="A better price for a month's delay",
        # A price, not a quantity: pricing is not asked again, the manager approves it.
        lines=[LineChange(line_id=line, quantity=Decimal("2"), unit_price=Decimal("8000"))],
        requested_delivery_date=later,
    )
    await order_handle(env, order).execute_update(OrderWorkflow.request_change, asked)
    await decide_change(env, session_factory, order, "sales_manager")
    assert await settled(session_factory, order, "approved") == [(1, "approved")]

    contact_mail = await inbox.wait_for(YANG_LING, "变更已生效")
    assert contact_mail["Subject"] == f"销售订单 {order.number}：变更已生效"
    text = body_of(contact_mail)
    assert f"您的订单 {order.number} 已变更（第 2 版）：" in text
    assert "- PUMP-10 · 单价：¥8,500.00 → ¥8,000.00" in text
    assert (
        f"- 要求交货日期：{delivery.year}年{delivery.month}月{delivery.day}日 → "
        f"{later.year}年{later.month}月{later.day}日"
    ) in text
    assert "- 总额：¥17,000.00 → ¥16,000.00" in text
    assert "订单总额现为 ¥16,000.00。" in text
    assert "/orders/" not in text  # a contact has no account to open the order page with
    assert not re.search(r"\b(Hello|Unit price|Total|revision)\b", text)

    owner_mail = await inbox.wait_for(OWNER, "Change applied")
    assert owner_mail["Subject"] == f"Order {order.number}: Change applied"
    owner_text = body_of(owner_mail)
    assert "Hello Wang Fang," in owner_text
    assert f"http://testserver/orders/{order.number}" in owner_text
    assert "您" not in owner_text
    # One change mail each, however the mail went out.
    assert len([m for m in inbox.to(YANG_LING) if "变更已生效" in m["Subject"]]) == 1
    assert len([m for m in inbox.to(OWNER) if "Change applied" in m["Subject"]]) == 1


async def test_the_chinese_dispatch_mail_carries_the_contacts_own_working_arrival_link(
    env, session_factory, settings, smtp, worker
):
    inbox, _ = smtp
    order = await hangzhou_order(env, session_factory, settings, date.today() + timedelta(days=60))
    await plan(env, session_factory, order)
    await dispatch(env, session_factory, order, tracking="SF8888")

    mail = await inbox.wait_for(YANG_LING, "已发货")
    assert mail["Subject"] == f"销售订单 {order.number}：已发货"
    text = body_of(mail)
    assert "承运商：SF Express，运单号：SF8888。" in text
    assert re.search(rf"您的订单 {order.number} 已于 \d{{4}}年\d{{1,2}}月\d{{1,2}}日 发货", text)
    assert "货物到达后，请通过以下链接确认收货" in text
    [link] = re.findall(r"^http://testserver/arrival/(\S+)$", text, flags=re.MULTILINE)
    async with session_factory() as session:
        contact = await session.scalar(select(Contact).where(Contact.email == YANG_LING))
        issued = await ContactLinks(settings.resolved_secret_key()).find(session, link)
    assert issued is not None
    assert (issued.order_id, issued.contact_id, issued.used_at) == (order.id, contact.id, None)
    owner_mail = await inbox.wait_for(OWNER, "Dispatched")
    assert "/arrival/" not in body_of(owner_mail)  # the link is the contact's alone


@needs_catalog
def test_any_other_event_a_contact_is_told_of_reads_in_their_language():
    """tell_contacts works for an event without its own words (an order cancelled, say): its
    label says what happened, in the contact's language."""
    for locale, subject, line in (
        (
            "zh_CN",
            "销售订单 SO-2026-00042：订单已取消",
            "您的订单 SO-2026-00042：订单已取消。",
        ),
        (
            "en",
            "Order SO-2026-00042: Order cancelled",
            "Your order SO-2026-00042: Order cancelled.",
        ),
    ):
        words = translations(locale)
        mail_subject, body = render(
            "contact_event",
            locale=locale,
            event="cancelled",
            recipient_name="Yang Ling",
            order_number="SO-2026-00042",
            customer=HANGZHOU,
            total=Formatter(locale).money(Decimal("16000")),
            what=words.gettext(EVENTS["cancelled"]),
        )
        assert (mail_subject, body.splitlines()[2]) == (subject, line)
