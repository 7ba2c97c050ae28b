"""Signed, expiring, single-use links in e-mails: an approver deciding their one to-do, a
customer's contact confirming that one order arrived; neither needs a login."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.tables import ContactLink, DecisionLink

DEFAULT_LIFETIME = timedelta(days=7)

LinkRow = TypeVar("LinkRow", DecisionLink, ContactLink)


class _SignedLinks(Generic[LinkRow]):
    """What both kinds of link share: a random id kept in the database, signed (with a salt of
    its own per kind) so that a guessed or altered token is recognised before any lookup."""

    row: type[LinkRow]

    def __init__(self, secret_key: str, *, salt: str, lifetime: timedelta) -> None:
        self._serializer = URLSafeSerializer(secret_key, salt=salt)
        self.lifetime = lifetime

    def _store(self, session: AsyncSession, now: datetime, **fields: object) -> str:
        """Keep a new link with these fields; the signed token that goes in the URL."""
        token_id = secrets.token_urlsafe(24)
        session.add(
            self.row(token_id=token_id, created_at=now, expires_at=now + self.lifetime, **fields)
        )
        return self._serializer.dumps(token_id)

    def token_id(self, token: str) -> str | None:
        """The link id a token carries, or None when it was tampered with."""
        try:
            value = self._serializer.loads(token)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None

    async def find(self, session: AsyncSession, token: str) -> LinkRow | None:
        """The link a token stands for, or None when it is forged or unknown."""
        token_id = self.token_id(token)
        if token_id is None:
            return None
        return await session.scalar(select(self.row).where(self.row.token_id == token_id))


class DecisionLinks(_SignedLinks[DecisionLink]):
    """Links in approval mails: one person deciding one to-do."""

    row = DecisionLink

    def __init__(self, secret_key: str, lifetime: timedelta = DEFAULT_LIFETIME) -> None:
        super().__init__(secret_key, salt="o2c-decision-link", lifetime=lifetime)

    async def issue(
        self, session: AsyncSession, *, todo_id: int, user_id: int, now: datetime
    ) -> str:
        """A new link for this person and to-do."""
        return self._store(session, now, todo_id=todo_id, user_id=user_id)


class ContactLinks(_SignedLinks[ContactLink]):
    """Links in a dispatch e-mail that let the customer's contact confirm arrival of that one
    order, once, without an account."""

    row = ContactLink

    def __init__(self, secret_key: str, lifetime: timedelta = timedelta(days=60)) -> None:
        super().__init__(secret_key, salt="o2c-contact-link", lifetime=lifetime)

    async def issue(
        self,
        session: AsyncSession,
        *,
        order_id: int,
        contact_id: int,
        dispatch_round: int,
        now: datetime,
    ) -> str:
        return self._store(
            session, now, order_id=order_id, contact_id=contact_id, dispatch_round=dispatch_round
        )
