"""The store's operations; callers never write SQL.

Inserts are idempotent on ``event_key`` (``INSERT … ON CONFLICT DO NOTHING`` on
both SQLite and PostgreSQL), which is what makes at-least-once consumption
produce each anomaly exactly once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from service.store.exceptions import InvalidCursorError
from service.store.tables import Anomaly, ApiKey, Base

ROLES = ("reader", "analyst", "admin")
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


@dataclass(frozen=True)
class AnomalyFilter:
    since: datetime | None = None
    until: datetime | None = None
    min_score: float | None = None
    severity: str | None = None
    source: str | None = None
    actor: str | None = None
    namespace: str | None = None
    status: str | None = None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The last id seen; InvalidCursorError for anything this store did not issue."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = text.partition(":")
        if prefix != "v1":
            raise ValueError(prefix)
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursorError("cursor is not one this API issued") from exc


class Store:
    """One engine and its session factory; safe to share between threads."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def create_schema(self) -> None:
        Base.metadata.create_all(self.engine)

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            return True
        except Exception:
            return False

    def close(self) -> None:
        self.engine.dispose()

    # --- anomalies -------------------------------------------------------------------

    def insert_anomalies(self, rows: Sequence[dict[str, Any]]) -> int:
        """Insert in one transaction; rows whose ``event_key`` exists are skipped."""
        if not rows:
            return 0
        dialect = sqlite if self.engine.dialect.name == "sqlite" else postgresql
        statement = dialect.insert(Anomaly).on_conflict_do_nothing(index_elements=["event_key"])
        with self.sessions.begin() as session:
            result = session.execute(statement.returning(Anomaly.id), list(rows))
            return len(result.all())

    def list_anomalies(
        self, filters: AnomalyFilter, limit: int, cursor: str | None = None
    ) -> tuple[list[Anomaly], str | None, bool]:
        """``(items, next_cursor, has_more)``, ascending by id after ``cursor``.

        At the end of the data ``next_cursor`` still points after the last item
        returned (or stays the given cursor), so a SIEM resumes from it later.
        """
        query = select(Anomaly).order_by(Anomaly.id).limit(limit + 1)
        if cursor:
            query = query.where(Anomaly.id > decode_cursor(cursor))
        if filters.since:
            query = query.where(Anomaly.event_time >= filters.since)
        if filters.until:
            query = query.where(Anomaly.event_time < filters.until)
        if filters.min_score is not None:
            query = query.where(Anomaly.score >= filters.min_score)
        for column, value in (
            (Anomaly.severity, filters.severity),
            (Anomaly.source, filters.source),
            (Anomaly.actor, filters.actor),
            (Anomaly.namespace, filters.namespace),
            (Anomaly.status, filters.status),
        ):
            if value is not None:
                query = query.where(column == value)
        with self.sessions() as session:
            items = list(session.scalars(query))
        has_more = len(items) > limit
        items = items[:limit]
        return items, (encode_cursor(items[-1].id) if items else cursor), has_more

    def get_anomaly(self, anomaly_id: int) -> Anomaly | None:
        with self.sessions() as session:
            return session.get(Anomaly, anomaly_id)

    def count_anomalies(self) -> int:
        with self.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(Anomaly)) or 0)

    # --- API keys --------------------------------------------------------------------

    def create_api_key(self, role: str) -> str:
        """A new key ``al_<id>_<secret>``; only the secret's hash is stored."""
        if role not in ROLE_RANK:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        with self.sessions.begin() as session:
            session.add(ApiKey(key_id=key_id, secret_hash=_hash(secret), role=role))
        return f"al_{key_id}_{secret}"

    def authenticate(self, presented: str) -> str | None:
        """The key's role, or None. The secret comparison is constant-time."""
        parts = presented.split("_", 2)
        if len(parts) != 3 or parts[0] != "al":
            return None
        with self.sessions() as session:
            key = session.scalar(select(ApiKey).where(ApiKey.key_id == parts[1]))
        if key is None or key.revoked:
            _hash(parts[2])  # same work either way
            return None
        return key.role if hmac.compare_digest(key.secret_hash, _hash(parts[2])) else None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
