"""Table definitions. ``event_key`` (source + event id) is unique: replays insert nothing twice."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Float, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Anomaly(Base):
    """A scored event at or above its model's alert threshold."""

    __tablename__ = "anomalies"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_key: Mapped[str] = mapped_column(String(600), unique=True)
    event_id: Mapped[str] = mapped_column(String(512))
    source: Mapped[str] = mapped_column(String(32), index=True)
    event_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    stored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str | None] = mapped_column(String(512), index=True)
    actor_type: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str | None] = mapped_column(String(256))
    resource: Mapped[str | None] = mapped_column(String(512))
    object: Mapped[str | None] = mapped_column(String(512))
    namespace: Mapped[str | None] = mapped_column(String(512), index=True)
    outcome: Mapped[str | None] = mapped_column(String(16))
    source_ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(1024))
    policy: Mapped[str | None] = mapped_column(String(512))
    score: Mapped[float] = mapped_column(Float, index=True)
    severity: Mapped[str] = mapped_column(String(16), index=True)
    is_anomaly: Mapped[bool] = mapped_column(Boolean)
    explanation: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    summary: Mapped[str] = mapped_column(Text)
    model_name: Mapped[str] = mapped_column(String(256))
    model_version: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="new", index=True)
    raw: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_anomalies_stored_at_id", "stored_at", "id"),)


class ApiKey(Base):
    """An API key: the public ``key_id`` finds the row, only a hash of the secret is kept."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
