"""Table definitions; the migrations in :mod:`service.store.migrations` create them.

``anomalies.event_key`` (source + event id) is unique: replays insert nothing
twice. ``anomalies.xact_id`` is the id of the writing transaction on PostgreSQL
(0 on SQLite, which has a single writer); the feed cursor orders by it, see
:mod:`service.store.cursor`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    FetchedValue,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    SQLite has no time zone type and hands back naive datetimes; this type
    converts on the way in and tags UTC on the way out, so callers compare and
    serialise aware datetimes whatever the store.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class Anomaly(Base):
    """A scored event at or above its model's alert threshold, and its triage state."""

    __tablename__ = "anomalies"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_key: Mapped[str] = mapped_column(String(600), unique=True)
    event_id: Mapped[str] = mapped_column(String(512))
    source: Mapped[str] = mapped_column(String(32), index=True)
    event_time: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    stored_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
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
    # Set by the database (see the migrations): the writing transaction on PostgreSQL.
    xact_id: Mapped[int] = mapped_column(BigInteger, server_default=FetchedValue())
    verdict: Mapped[str | None] = mapped_column(String(32))
    assignee: Mapped[str | None] = mapped_column(String(256))
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    suppression_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("suppressions.id", ondelete="SET NULL")
    )

    __table_args__ = (
        Index("ix_anomalies_stored_at_id", "stored_at", "id"),
        Index("ix_anomalies_xact_id_id", "xact_id", "id"),
    )


class AnomalyChange(Base):
    """One triage change of one field: who (API key id), when, from what to what."""

    __tablename__ = "anomaly_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    anomaly_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("anomalies.id", ondelete="CASCADE"), index=True
    )
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(32))
    field: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)


class ApiKey(Base):
    """An API key: the public ``key_id`` finds the row, only a hash of the secret is kept."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str | None] = mapped_column(String(128))
    created_by: Mapped[str | None] = mapped_column(String(32))
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Suppression(Base):
    """Anomalies matching every given field are stored as ``suppressed`` and not alerted."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str | None] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(String(512))
    action: Mapped[str | None] = mapped_column(String(256))
    resource: Mapped[str | None] = mapped_column(String(512))
    namespace: Mapped[str | None] = mapped_column(String(512))
    reason: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(32))


class WebhookEndpoint(Base):
    """A receiver of alerts; the secret signs every delivery (Standard Webhooks)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(128))
    description: Mapped[str | None] = mapped_column(String(256))
    min_severity: Mapped[str] = mapped_column(String(16))
    source: Mapped[str | None] = mapped_column(String(32))
    namespace: Mapped[str | None] = mapped_column(String(512))
    actor: Mapped[str | None] = mapped_column(String(512))
    payload_format: Mapped[str] = mapped_column(String(16))
    group_window_s: Mapped[int] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class OutboxMessage(Base):
    """One alert for one endpoint, written in the transaction that stored its anomaly.

    ``status``: ``pending`` (due at ``due_at``), ``delivering`` (claimed until
    ``claimed_until``), ``delivered``, ``dead`` (out of attempts) or ``cancelled``
    (the endpoint was disabled). Repeats of the same actor and top feature join a
    pending message while its grouping window is open (``count`` > 1).
    """

    __tablename__ = "webhook_outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    endpoint_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    anomaly_id: Mapped[int] = mapped_column(BigId, ForeignKey("anomalies.id", ondelete="CASCADE"))
    anomaly_ids: Mapped[list[int]] = mapped_column(JSON)
    count: Mapped[int] = mapped_column(Integer, default=1)
    group_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    payload: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_webhook_outbox_status_due_at", "status", "due_at"),
        Index("ix_webhook_outbox_group", "endpoint_id", "group_key", "status"),
    )


class DeliveryAttempt(Base):
    """Every HTTP attempt of every outbox message, successful or not."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    outbox_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("webhook_outbox.id", ondelete="CASCADE")
    )
    endpoint_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    message_id: Mapped[str] = mapped_column(String(64))
    attempt: Mapped[int] = mapped_column(Integer)
    attempted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    duration_ms: Mapped[float] = mapped_column(Float)
    status_code: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    retry_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_webhook_deliveries_endpoint_id_id", "endpoint_id", "id"),)


class PartitionState(Base):
    """One input partition's entity state and the next offset to read, per consumer group.

    Written in one statement (the snapshot and its offset never disagree) and
    fenced by ``epoch``: a scorer that is assigned the partition claims it
    (``epoch`` + 1) and only a save carrying the current epoch lands, so a scorer
    that lost the partition without noticing cannot overwrite its new owner's
    history. ``snapshot`` is :meth:`features.state.EntityState.to_bytes`; NULL
    until the first checkpoint.
    """

    __tablename__ = "partition_states"

    consumer_group: Mapped[str] = mapped_column(String(255), primary_key=True)
    topic: Mapped[str] = mapped_column(String(255), primary_key=True)
    partition: Mapped[int] = mapped_column(Integer, primary_key=True)
    epoch: Mapped[int] = mapped_column(BigInteger, default=0)
    owner: Mapped[str] = mapped_column(String(255))
    claimed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    next_offset: Mapped[int | None] = mapped_column(BigInteger)
    snapshot: Mapped[bytes | None] = mapped_column(LargeBinary)
    snapshot_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    saved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ConsoleSession(Base):
    """A signed-in console browser: the API key it signed in with and its CSRF token.

    Only a hash of the cookie's token is kept, as for API keys. The session ends at
    ``expires_at``, at sign-out, or as soon as its key is revoked.
    """

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class DriftCount(Base):
    """One scorer's live counts for one model version over one time bucket.

    Counts add up across scorers and buckets, so any process can compute a
    window's drift (:mod:`models.drift`) from the rows; each scorer writes only
    its own rows (``instance``), replacing a bucket's row as it fills.
    ``feature_counts`` is events per feature and bin (a list per feature, in the
    reference's order), ``tail_counts`` events per tenth of tail probability.
    """

    __tablename__ = "drift_counts"

    model_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    model_version: Mapped[str] = mapped_column(String(64), primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    instance: Mapped[str] = mapped_column(String(255), primary_key=True)
    events: Mapped[int] = mapped_column(BigInteger, default=0)
    alerts: Mapped[int] = mapped_column(BigInteger, default=0)
    feature_counts: Mapped[list[list[int]]] = mapped_column(JSON)
    tail_counts: Mapped[list[int]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # A challenger's counts while it is shadow-scored (its rows' ``instance`` ends in
    # ``:shadow``, so a version's shadow and live rows of one bucket never collide).
    shadow: Mapped[bool] = mapped_column(Boolean, default=False)
    errors: Mapped[int] = mapped_column(BigInteger, default=0)  # events that failed scoring
    cpu_seconds: Mapped[float] = mapped_column(Float, default=0.0)  # process CPU of scoring

    __table_args__ = (Index("ix_drift_counts_bucket_start", "bucket_start"),)


class DriftReferenceRow(Base):
    """A model version's training distribution (:class:`models.drift.DriftReference`),
    written by the scorer that loads it, so readers of drift need no model registry."""

    __tablename__ = "drift_references"

    model_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    model_version: Mapped[str] = mapped_column(String(64), primary_key=True)
    reference: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ShadowAnomaly(Base):
    """An event a shadow-scored challenger would have flagged: evidence, never an alert."""

    __tablename__ = "shadow_anomalies"

    model_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    model_version: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_key: Mapped[str] = mapped_column(String(600), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(512))
    source: Mapped[str] = mapped_column(String(32))
    event_time: Mapped[datetime] = mapped_column(UtcDateTime)
    score: Mapped[float] = mapped_column(Float)
    stored_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (Index("ix_shadow_anomalies_stored_at", "stored_at"),)


class ModelDecision(Base):
    """What happened to a version and why: retrained, promoted, refused, rolled back.

    The same evidence goes to the MLflow version as tags; this table is the
    timeline ``auditlens report`` draws without asking the registry per event.
    """

    __tablename__ = "model_decisions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    model_name: Mapped[str] = mapped_column(String(255))
    model_version: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    decided_by: Mapped[str] = mapped_column(String(255))
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_model_decisions_version", "model_name", "model_version"),
        Index("ix_model_decisions_decided_at", "decided_at"),
    )


class Lease(Base):
    """A named lock with an expiry: one holder at a time across every process."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    acquired_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
