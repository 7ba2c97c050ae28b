"""Signed, expiring, single-use links in e-mails: an approver deciding their one to-do, a
customer's contact confirming that one order arrived; neither needs a login."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.tables import ContactLink, DecisionLink

DEFAULT_LIFETIME = timedelta(days=7)


class DecisionLinks:
    """Issues links (a random id kept in the database, signed so that a guessed or altered one
    is recognised before any lookup) and reads them back."""

    def __init__(self, secret_key: str, lifetime: timedelta = DEFAULT_LIFETIME) -> None:
        self._serializer = URLSafeSerializer(secret_key, salt="o2c-decision-link")
        self.lifetime = lifetime

    async def issue(
        self, session: AsyncSession, *, todo_id: int, user_id: int, now: datetime
    ) -> str:
        """A new link for this person and to-do; the signed token that goes in the URL."""
        token_id = secrets.token_urlsafe(24)
        session.add(
            DecisionLink(
                token_id=token_id,
                todo_id=todo_id,
                user_id=user_id,
                created_at=now,
                expires_at=now + self.lifetime,
            )
        )
        return self._serializer.dumps(token_id)

    def token_id(self, token: str) -> str | None:
        """The link id a token carries, or None when it was tampered with."""
        try:
            value = self._serializer.loads(token)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None

    async def find(self, session: AsyncSession, token: str) -> DecisionLink | None:
        """The link a token stands for, or None when it is forged or unknown."""
        token_id = self.token_id(token)
        if token_id is None:
            return None
        return await session.scalar(select(DecisionLink).where(DecisionLink.token_id == token_id))


class ContactLinks:
    """Links in a dispatch e-mail that let the customer's contact confirm arrival of that one
    order, once, without an account: a random id kept in the database, signed."""

    def __init__(self, secret_key: str, lifetime: timedelta = timedelta(days=60)) -> None:
        self._serializer = URLSafeSerializer(secret_key, salt="o2c-contact-link")
        self.lifetime = lifetime

    async def issue(
        self,
        session: AsyncSession,
        *,
        order_id: int,
        contact_id: int,
        dispatch_round: int,
        now: datetime,
    ) -> str:
        token_id = secrets.token_urlsafe(24)
        session.add(
            ContactLink(
                token_id=token_id,
                order_id=order_id,
                contact_id=contact_id,
                dispatch_round=dispatch_round,
                created_at=now,
                expires_at=now + self.lifetime,
            )
        )
        return self._serializer.dumps(token_id)

    async def find(self, session: AsyncSession, token: str) -> ContactLink | None:
        """The link a token stands for, or None when it is forged or unknown."""
        try:
            token_id = self._serializer.loads(token)
        except BadSignature:
            return None
        if not isinstance(token_id, str):
            return None
        return await session.scalar(select(ContactLink).where(ContactLink.token_id == token_id))
