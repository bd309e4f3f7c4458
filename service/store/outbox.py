"""The durable webhook outbox: queued with the anomaly, claimed by dispatchers, settled per attempt.

Claiming is safe with several dispatchers (several ``auditlens serve``
processes): candidates are selected with ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, and the claim itself is a conditional ``UPDATE`` that only succeeds
on rows still claimable, which also covers SQLite. A claim is a lease: a
dispatcher that dies mid-delivery loses its rows back to the queue when
``claimed_until`` passes, and a late answer from it is recorded as an attempt
but no longer moves the message (its ``claim_token`` no longer matches).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from service.store.alerting import endpoint_accepts, group_key
from service.store.base import StoreBase
from service.store.tables import (
    Anomaly,
    DeliveryAttempt,
    OutboxMessage,
    WebhookEndpoint,
    utcnow,
)

MAX_GROUP_IDS = 100  # a grouped alert lists at most this many anomaly ids (count goes on)
OUTCOMES = ("delivered", "retry", "dead", "disabled")


def new_message_id() -> str:
    """A Standard Webhooks message id: unique, stable across retries of one alert."""
    return f"msg_{secrets.token_hex(12)}"


def enqueue_alerts(session: Session, anomalies: Sequence[Mapping[str, Any]], now: datetime) -> int:
    """Queue alerts for newly stored anomalies in the caller's transaction; returns messages added.

    With a grouping window, an anomaly whose actor and top feature match a
    message still waiting for its window joins it (``count`` + 1) instead.
    """
    if not anomalies:
        return 0
    endpoints = list(session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.enabled)))
    if not endpoints:
        return 0
    filters = [
        (
            endpoint,
            {
                "min_severity": endpoint.min_severity,
                "source": endpoint.source,
                "namespace": endpoint.namespace,
                "actor": endpoint.actor,
            },
        )
        for endpoint in endpoints
    ]
    added = 0
    for anomaly in anomalies:
        key = group_key(anomaly.get("actor"), anomaly.get("explanation"))
        for endpoint, accepts in filters:
            if not endpoint_accepts(accepts, anomaly):
                continue
            window = endpoint.group_window_s
            if window > 0 and _join_group(session, endpoint.id, key, int(anomaly["id"]), now):
                continue
            session.add(
                OutboxMessage(
                    message_id=new_message_id(),
                    endpoint_id=endpoint.id,
                    anomaly_id=anomaly["id"],
                    anomaly_ids=[anomaly["id"]],
                    count=1,
                    group_key=key,
                    status="pending",
                    attempts=0,
                    created_at=now,
                    due_at=now + timedelta(seconds=window),
                )
            )
            if window > 0:
                session.flush()  # a later anomaly of this batch may join it
            added += 1
    return added


def _join_group(
    session: Session, endpoint_id: int, key: str, anomaly_id: int, now: datetime
) -> bool:
    """Fold a repeat into the group's waiting message, if there is one."""
    message = session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.endpoint_id == endpoint_id,
            OutboxMessage.group_key == key,
            OutboxMessage.status == "pending",
            OutboxMessage.attempts == 0,
            OutboxMessage.due_at > now,
        )
        .order_by(OutboxMessage.id)
        .limit(1)
        .with_for_update()
    ).first()
    if message is None:
        return False
    message.count += 1
    if len(message.anomaly_ids) < MAX_GROUP_IDS:
        message.anomaly_ids = [*message.anomaly_ids, anomaly_id]
    return True


@dataclass(frozen=True)
class ClaimedMessage:
    """Everything a dispatcher needs to deliver one message, detached from the session."""

    outbox_id: int
    message_id: str
    claim_token: str
    attempt: int  # the number this attempt will have (1 = first)
    endpoint_id: int
    url: str
    secret: str
    payload_format: str
    payload: str


@dataclass(frozen=True)
class AlertContent:
    """What a payload renderer sees: the first anomaly of the alert and its group size."""

    message_id: str
    created_at: datetime
    payload_format: str
    anomaly: Anomaly
    count: int
    anomaly_ids: list[int]


Renderer = Callable[[AlertContent], str]


@dataclass(frozen=True)
class AttemptResult:
    """The outcome of one HTTP attempt, decided by the dispatcher."""

    outcome: str  # one of OUTCOMES
    attempted_at: datetime
    duration_ms: float
    status_code: int | None = None
    error: str | None = None
    retry_at: datetime | None = None


def _claimable(now: datetime) -> Any:
    return or_(
        and_(OutboxMessage.status == "pending", OutboxMessage.due_at <= now),
        and_(OutboxMessage.status == "delivering", OutboxMessage.claimed_until < now),
    )


class OutboxStore(StoreBase):
    def claim_due(
        self, limit: int, lease_s: float, render: Renderer, now: datetime | None = None
    ) -> list[ClaimedMessage]:
        """Lease up to ``limit`` due messages of enabled endpoints.

        The body is rendered once, on the first claim, and kept: every retry
        sends the same bytes under the same ``webhook-id``.
        """
        now = now or utcnow()
        token = secrets.token_hex(8)
        with self.sessions.begin() as session:
            candidates = list(
                session.scalars(
                    select(OutboxMessage.id)
                    .join(WebhookEndpoint, WebhookEndpoint.id == OutboxMessage.endpoint_id)
                    .where(_claimable(now), WebhookEndpoint.enabled)
                    .order_by(OutboxMessage.due_at, OutboxMessage.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True, of=OutboxMessage)
                )
            )
            if not candidates:
                return []
            claimed = list(
                session.scalars(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(candidates), _claimable(now))
                    .values(
                        status="delivering",
                        claimed_until=now + timedelta(seconds=lease_s),
                        claim_token=token,
                    )
                    .returning(OutboxMessage.id)
                )
            )
            rows = session.execute(
                select(OutboxMessage, WebhookEndpoint, Anomaly)
                .join(WebhookEndpoint, WebhookEndpoint.id == OutboxMessage.endpoint_id)
                .join(Anomaly, Anomaly.id == OutboxMessage.anomaly_id)
                .where(OutboxMessage.id.in_(claimed))
                .order_by(OutboxMessage.due_at, OutboxMessage.id)
                .execution_options(populate_existing=True)
            ).all()
            result: list[ClaimedMessage] = []
            for message, endpoint, anomaly in rows:
                if message.payload is None:
                    message.payload = render(
                        AlertContent(
                            message_id=message.message_id,
                            created_at=message.created_at,
                            payload_format=endpoint.payload_format,
                            anomaly=anomaly,
                            count=message.count,
                            anomaly_ids=list(message.anomaly_ids),
                        )
                    )
                result.append(
                    ClaimedMessage(
                        outbox_id=message.id,
                        message_id=message.message_id,
                        claim_token=token,
                        attempt=message.attempts + 1,
                        endpoint_id=endpoint.id,
                        url=endpoint.url,
                        secret=endpoint.secret,
                        payload_format=endpoint.payload_format,
                        payload=message.payload,
                    )
                )
            return result

    def record_attempt(self, claimed: ClaimedMessage, result: AttemptResult) -> bool:
        """Log the attempt and settle the message; False when the lease was lost meanwhile."""
        if result.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
        status = {
            "delivered": "delivered",
            "retry": "pending",
            "dead": "dead",
            "disabled": "cancelled",
        }[result.outcome]
        with self.sessions.begin() as session:
            session.add(
                DeliveryAttempt(
                    outbox_id=claimed.outbox_id,
                    endpoint_id=claimed.endpoint_id,
                    message_id=claimed.message_id,
                    attempt=claimed.attempt,
                    attempted_at=result.attempted_at,
                    duration_ms=result.duration_ms,
                    status_code=result.status_code,
                    outcome=result.outcome,
                    error=result.error,
                    retry_at=result.retry_at,
                )
            )
            settled = session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == claimed.outbox_id,
                    OutboxMessage.status == "delivering",
                    OutboxMessage.claim_token == claimed.claim_token,
                )
                .values(
                    status=status,
                    attempts=OutboxMessage.attempts + 1,
                    due_at=result.retry_at or OutboxMessage.due_at,
                    claimed_until=None,
                    claim_token=None,
                    last_error=result.error,
                    delivered_at=result.attempted_at if status == "delivered" else None,
                )
                .returning(OutboxMessage.id)
            ).first()
            if result.outcome == "disabled":
                disable_endpoint(
                    session,
                    claimed.endpoint_id,
                    f"the receiver answered {result.status_code} Gone "
                    f"at {result.attempted_at.isoformat()}",
                )
            return settled is not None

    def outbox_counts(self, endpoint_id: int | None = None) -> dict[str, int]:
        """Messages per status (all endpoints, or one)."""
        query = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        if endpoint_id is not None:
            query = query.where(OutboxMessage.endpoint_id == endpoint_id)
        with self.sessions() as session:
            return {status: int(n) for status, n in session.execute(query)}

    def outbox_messages(self, endpoint_id: int | None = None) -> list[OutboxMessage]:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if endpoint_id is not None:
            query = query.where(OutboxMessage.endpoint_id == endpoint_id)
        with self.sessions() as session:
            return list(session.scalars(query))


def disable_endpoint(session: Session, endpoint_id: int, reason: str) -> None:
    """Stop sending to an endpoint and cancel what was still queued for it."""
    session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id)
        .values(enabled=False, disabled_reason=reason, updated_at=utcnow())
    )
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.endpoint_id == endpoint_id,
            OutboxMessage.status.in_(("pending", "delivering")),
        )
        .values(status="cancelled", claimed_until=None, claim_token=None)
    )
