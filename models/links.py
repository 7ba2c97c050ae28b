"""Decision links: a signed, expiring, single-use link in an approval e-mail that lets its one
recipient decide its one to-do without logging in."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.tables import DecisionLink

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
