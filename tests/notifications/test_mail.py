"""E-mail through a real SMTP server (aiosmtpd): each new to-do mails its assignees a link; a
payment reminder is mailed once per due date."""

from __future__ import annotations

import asyncio
import socket
from datetime import timedelta
from decimal import Decimal
from email import message_from_bytes
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from temporalio.worker import Worker

from models.domain import PaymentPlanItem, PaymentTrigger
from models.tables import OutboxMail, Todo, User
from notifications.mail import Mailer
from tests import helpers
from tests.workflows import test_collection as collecting
from tests.workflows.test_order import fails_first_attempt
from worker import WORKFLOWS, activities_for, build_worker


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


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


async def test_new_todo_mails_each_assignee_a_link_to_it(env, session_factory, settings, smtp):
    inbox, port = smtp
    mailer = Mailer(host="127.0.0.1", port=port, sender="o2c@example.com")
    async with build_worker(env.client, session_factory, settings, mailer=mailer):
        order = await helpers.draft(session_factory)
        await helpers.submit(env.client, session_factory, order, settings.task_queue)
        [todo] = await helpers.open_todos(session_factory, order, "estimate_cost")
        # The mail reaches the server a moment before the sender's activity records it as sent.
        for _ in range(200):
            async with session_factory() as session:
                sent = await session.scalar(select(OutboxMail.sent_at))
            if inbox.messages and sent is not None:
                break
            await asyncio.sleep(0.05)

    async with session_factory() as session:
        pricing = await session.scalar(select(User).where(User.username == "pricing"))
        todo = await session.get(Todo, todo.id)
        mails = list(await session.scalars(select(OutboxMail)))
    [message] = inbox.messages
    assert message["To"] == pricing.email
    assert message["Subject"] == f"To-do for order {order.number}: Estimate the cost"
    body = message.get_payload(decode=True).decode()
    assert f"http://testserver/todos/{todo.id}" in body
    assert "Hello Sun Li" in body
    [mail] = mails
    assert mail.sent_at is not None


async def test_without_smtp_mail_is_kept_in_the_outbox(env, session_factory, settings):
    async with build_worker(env.client, session_factory, settings, mailer=None):
        order = await helpers.draft(session_factory)
        await helpers.submit(env.client, session_factory, order, settings.task_queue)
        await helpers.open_todos(session_factory, order, "estimate_cost")
    async with session_factory() as session:
        [mail] = list(await session.scalars(select(OutboxMail)))
    assert mail.sent_at is None
    assert "/todos/" in mail.body


@pytest.mark.own_test_server
async def test_one_reminder_per_due_date_even_when_its_step_is_retried(
    env, session_factory, settings, smtp
):
    inbox, port = smtp
    mailer = Mailer(host="127.0.0.1", port=port, sender="o2c@example.com")
    attempts: list[int] = []
    activities = [
        fails_first_attempt(fn, attempts) if fn.__name__ == "remind_installment" else fn
        for fn in activities_for(session_factory, settings, mailer)
    ]
    due = await collecting.today(env) + timedelta(days=10)
    async with Worker(
        env.client, task_queue=settings.task_queue, workflows=WORKFLOWS, activities=activities
    ):
        order, _ = await collecting.confirmed_order(
            env,
            session_factory,
            settings,
            plan_items=[
                PaymentPlanItem(
                    percent=Decimal("100"), trigger=PaymentTrigger.fixed_date, fixed_date=due
                )
            ],
        )
        await env.sleep(timedelta(days=8))  # the reminder is 3 days before the due date
        for _ in range(200):
            if any("Payment due soon" in m["Subject"] for m in inbox.messages):
                break
            await asyncio.sleep(0.05)
        await env.sleep(timedelta(hours=12))
        await asyncio.sleep(0.5)  # time for a second mail, were one sent
    assert attempts == [1, 2]  # the reminder's step was retried ...
    reminders = [m for m in inbox.messages if "Payment due soon" in m["Subject"]]
    assert [m["To"] for m in reminders] == ["sales@o2c.example.com"]  # ... and mailed once
    body = reminders[0].get_payload(decode=True).decode()
    assert due.isoformat() in body and f"/orders/{order.number}" in body
