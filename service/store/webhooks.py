"""Webhook endpoints and their delivery log."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select

from service.store.base import StoreBase
from service.store.exceptions import NotFoundError
from service.store.outbox import disable_endpoint
from service.store.tables import DeliveryAttempt, OutboxMessage, WebhookEndpoint, utcnow

EDITABLE = frozenset(
    {
        "url",
        "secret",
        "description",
        "min_severity",
        "source",
        "namespace",
        "actor",
        "payload_format",
        "group_window_s",
        "enabled",
    }
)


class WebhookStore(StoreBase):
    def create_webhook(self, values: Mapping[str, Any], created_by: str) -> WebhookEndpoint:
        unknown = set(values) - EDITABLE
        if unknown:
            raise ValueError(f"not webhook fields: {', '.join(sorted(unknown))}")
        endpoint = WebhookEndpoint(
            **{"enabled": True, **values}, created_at=utcnow(), created_by=created_by
        )
        with self.sessions.begin() as session:
            session.add(endpoint)
        return endpoint

    def list_webhooks(self) -> list[WebhookEndpoint]:
        with self.sessions() as session:
            return list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))

    def get_webhook(self, webhook_id: int) -> WebhookEndpoint:
        with self.sessions() as session:
            endpoint = session.get(WebhookEndpoint, webhook_id)
        if endpoint is None:
            raise NotFoundError("webhook", webhook_id)
        return endpoint

    def update_webhook(self, webhook_id: int, changes: Mapping[str, Any]) -> WebhookEndpoint:
        """Apply the given fields; disabling cancels what is queued, enabling clears the reason."""
        unknown = set(changes) - EDITABLE
        if unknown:
            raise ValueError(f"not webhook fields: {', '.join(sorted(unknown))}")
        with self.sessions.begin() as session:
            endpoint = session.get(WebhookEndpoint, webhook_id, with_for_update=True)
            if endpoint is None:
                raise NotFoundError("webhook", webhook_id)
            was_enabled = endpoint.enabled
            for field, value in changes.items():
                setattr(endpoint, field, value)
            endpoint.updated_at = utcnow()
            if was_enabled and not endpoint.enabled:
                session.flush()
                disable_endpoint(session, webhook_id, "disabled by an administrator")
            elif endpoint.enabled:
                endpoint.disabled_reason = None
        return self.get_webhook(webhook_id)

    def delete_webhook(self, webhook_id: int) -> None:
        """Remove an endpoint with its queued messages and delivery log."""
        with self.sessions.begin() as session:
            endpoint = session.get(WebhookEndpoint, webhook_id)
            if endpoint is None:
                raise NotFoundError("webhook", webhook_id)
            # Explicit rather than left to ON DELETE CASCADE, so a SQLite file
            # opened without foreign-key enforcement ends up the same.
            session.execute(
                delete(DeliveryAttempt).where(DeliveryAttempt.endpoint_id == webhook_id)
            )
            session.execute(delete(OutboxMessage).where(OutboxMessage.endpoint_id == webhook_id))
            session.delete(endpoint)

    def list_deliveries(
        self, webhook_id: int, limit: int, before: int | None = None
    ) -> list[DeliveryAttempt]:
        """Newest attempts first; ``before`` is the smallest id of the previous page."""
        self.get_webhook(webhook_id)
        query = (
            select(DeliveryAttempt)
            .where(DeliveryAttempt.endpoint_id == webhook_id)
            .order_by(DeliveryAttempt.id.desc())
            .limit(limit)
        )
        if before is not None:
            query = query.where(DeliveryAttempt.id < before)
        with self.sessions() as session:
            return list(session.scalars(query))
