"""Bearer tokens for the API and CSRF tokens for forms, signed with itsdangerous."""

from __future__ import annotations

import secrets

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


class TokenSigner:
    def __init__(self, secret_key: str, lifetime_minutes: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="o2c-api-token")
        self._max_age = lifetime_minutes * 60

    def issue(self, user_id: int) -> str:
        return self._serializer.dumps({"uid": user_id})

    def user_id(self, token: str) -> int | None:
        """The user a token was issued to, or None when it is forged or expired."""
        try:
            payload = self._serializer.loads(token, max_age=self._max_age)
        except (BadSignature, SignatureExpired):
            return None
        uid = payload.get("uid") if isinstance(payload, dict) else None
        return uid if isinstance(uid, int) else None


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and secrets.compare_digest(expected, given)
