"""Console sessions: signing a browser in with an API key, and finding it again.

The browser holds a random token in an HttpOnly cookie; the store keeps its
SHA-256 only, so a copy of the store signs nobody in. Every lookup joins the
key, so revoking a key signs its browsers out at once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from service.store.base import StoreBase
from service.store.tables import ApiKey, ConsoleSession, utcnow


@dataclass(frozen=True)
class SignedIn:
    """A live console session: who it is and the token its forms must carry."""

    key_id: str
    role: str
    csrf_token: str
    expires_at: datetime


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ConsoleSessionStore(StoreBase):
    def open_console_session(self, key_id: str, lifetime: timedelta) -> tuple[str, SignedIn]:
        """A new session for an authenticated key: ``(cookie token, session)``.

        Expired sessions are cleared on the way, so the table holds live ones only.
        """
        token = secrets.token_urlsafe(32)
        now = utcnow()
        row = ConsoleSession(
            token_hash=_hash(token),
            key_id=key_id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + lifetime,
        )
        with self.sessions.begin() as session:
            session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at <= now))
            session.add(row)
            role = session.scalar(select(ApiKey.role).where(ApiKey.key_id == key_id))
        if role is None:
            raise ValueError(f"no API key {key_id}")
        return token, SignedIn(key_id, role, row.csrf_token, row.expires_at)

    def console_session(self, token: str) -> SignedIn | None:
        """The live session of a cookie token; None when unknown, expired or its key revoked."""
        query = (
            select(ConsoleSession, ApiKey.role)
            .join(ApiKey, ApiKey.key_id == ConsoleSession.key_id)
            .where(
                ConsoleSession.token_hash == _hash(token),
                ConsoleSession.expires_at > utcnow(),
                ApiKey.revoked.is_(False),
            )
        )
        with self.sessions() as session:
            found = session.execute(query).first()
        if found is None:
            return None
        row, role = found
        return SignedIn(row.key_id, role, row.csrf_token, row.expires_at)

    def close_console_session(self, token: str) -> None:
        with self.sessions.begin() as session:
            session.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == _hash(token)))
