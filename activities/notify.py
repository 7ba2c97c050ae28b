"""Mail leaves the outbox through this activity, retried by Temporal's retry policy."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from temporalio import activity

from models.db import SessionFactory
from models.domain import SendMail
from models.tables import OutboxMail
from notifications.mail import Mailer, Message


class NotifyActivities:
    def __init__(self, session_factory: SessionFactory, mailer: Mailer | None) -> None:
        self.session_factory = session_factory
        self.mailer = mailer

    @activity.defn
    async def send_mail(self, step: SendMail) -> int:
        """Send the queued mails not sent yet; each is marked sent as soon as the server took it,
        so a retry after a failure sends only the rest. Returns how many went out."""
        if self.mailer is None:
            return 0
        sent = 0
        async with self.session_factory() as session:
            mails = await session.scalars(
                select(OutboxMail)
                .where(OutboxMail.id.in_(step.mail_ids), OutboxMail.sent_at.is_(None))
                .order_by(OutboxMail.id)
            )
            for mail in mails:
                await self.mailer.send(Message(mail.to_address, mail.subject, mail.body))
                mail.sent_at = datetime.now(UTC)
                await session.commit()
                sent += 1
        return sent
