"""API keys: ``al_<key id>_<secret>``, shown once, only a hash of the secret stored.

The key id is public (it names the key in listings and in triage history); the
secret is 32 random bytes, so a plain SHA-256 is enough (no password stretching
needed for a secret nobody chose), and it is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from service.store.base import StoreBase
from service.store.exceptions import NotFoundError
from service.store.tables import ApiKey, utcnow

ROLES = ("reader", "analyst", "admin")
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's public id and its role."""

    key_id: str
    role: str


@dataclass(frozen=True)
class IssuedKey:
    """A new key: ``key`` is the only copy of the secret, ``record`` what the store keeps."""

    key: str
    record: ApiKey


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class KeyStore(StoreBase):
    def issue_api_key(
        self, role: str, name: str | None = None, created_by: str | None = None
    ) -> IssuedKey:
        if role not in ROLE_RANK:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        record = ApiKey(
            key_id=key_id,
            secret_hash=_hash(secret),
            role=role,
            name=name,
            created_by=created_by,
            created_at=utcnow(),
            revoked=False,
        )
        with self.sessions.begin() as session:
            session.add(record)
        return IssuedKey(f"al_{key_id}_{secret}", record)

    def create_api_key(self, role: str) -> str:
        """A new key of ``role``; the returned string is the only copy of its secret."""
        return self.issue_api_key(role).key

    def authenticate(self, presented: str) -> Principal | None:
        """The key's principal, or None for an unknown, malformed or revoked key."""
        parts = presented.split("_", 2)
        if len(parts) != 3 or parts[0] != "al" or len(parts[1]) > 32:
            return None
        with self.sessions() as session:
            key = session.scalar(select(ApiKey).where(ApiKey.key_id == parts[1]))
        presented_hash = _hash(parts[2])  # same work whether or not the key exists
        if key is None or key.revoked:
            return None
        if not hmac.compare_digest(key.secret_hash, presented_hash):
            return None
        return Principal(key.key_id, key.role)

    def list_api_keys(self) -> list[ApiKey]:
        with self.sessions() as session:
            return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))

    def revoke_api_key(self, key_id: str) -> ApiKey:
        """Revoke (idempotent): the key stops authenticating at once; the row stays for audit."""
        with self.sessions.begin() as session:
            key = session.scalar(select(ApiKey).where(ApiKey.key_id == key_id).with_for_update())
            if key is None:
                raise NotFoundError("API key", key_id)
            if not key.revoked:
                key.revoked = True
                key.revoked_at = utcnow()
            return key
