"""``/v1/webhooks``: administrators manage alert receivers and read their delivery log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Response, status

from service.api.deps import AdminDep, ResolverDep, SettingsDep, StoreDep
from service.api.schemas import errors
from service.api.schemas.webhooks import (
    DeliveryList,
    DeliveryPublic,
    WebhookCreate,
    WebhookCreated,
    WebhookList,
    WebhookPublic,
    WebhookUpdate,
)
from service.config import Settings
from service.store.tables import WebhookEndpoint
from service.webhooks.exceptions import InvalidSecretError, UnsafeURLError
from service.webhooks.kafka_sink import kafka_topic
from service.webhooks.signing import generate_secret, secret_key
from service.webhooks.urls import Resolver, check_url

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
WebhookId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _public(endpoint: WebhookEndpoint) -> WebhookPublic:
    return WebhookPublic(
        id=endpoint.id,
        url=endpoint.url,
        description=endpoint.description,
        min_severity=endpoint.min_severity,  # type: ignore[arg-type]
        source=endpoint.source,
        namespace=endpoint.namespace,
        actor=endpoint.actor,
        payload_format=endpoint.payload_format,  # type: ignore[arg-type]
        group_window_seconds=endpoint.group_window_s,
        enabled=endpoint.enabled,
        disabled_reason=endpoint.disabled_reason,
        created_at=endpoint.created_at,
        created_by=endpoint.created_by,
        updated_at=endpoint.updated_at,
    )


def _validated(values: dict[str, Any], settings: Settings, resolver: Resolver) -> dict[str, Any]:
    """Check the URL (a topic, or an http(s) URL to a public address) and the secret.

    Also maps the API's field names to the store's.
    """
    try:
        url = values.get("url")
        if url is not None and kafka_topic(url) is None:
            check_url(url, settings.webhook_allow_private, resolver)
        if values.get("secret") is not None:
            secret_key(values["secret"])
    except (UnsafeURLError, InvalidSecretError) as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    if "group_window_seconds" in values:
        values["group_window_s"] = values.pop("group_window_seconds")
    return values


@router.get("", response_model=WebhookList, responses=errors(), summary="List endpoints")
def list_webhooks(store: StoreDep, _caller: AdminDep) -> WebhookList:
    return WebhookList(items=[_public(e) for e in store.list_webhooks()])


@router.post(
    "",
    response_model=WebhookCreated,
    status_code=status.HTTP_201_CREATED,
    responses=errors(),
    summary="Add an endpoint; the response is the only place its secret appears",
)
def create_webhook(
    body: WebhookCreate,
    store: StoreDep,
    settings: SettingsDep,
    resolver: ResolverDep,
    caller: AdminDep,
) -> WebhookCreated:
    """Deliveries are signed per Standard Webhooks 1.0 (`webhook-id`, `webhook-timestamp`,
    `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed with
    the base64-decoded part of the secret after `whsec_`). Only anomalies stored from now
    on, at or above `min_severity` and matching every filter given, are sent."""
    values = _validated(body.model_dump(), settings, resolver)
    values["secret"] = values["secret"] or generate_secret()
    endpoint = store.create_webhook(values, caller.key_id)
    return WebhookCreated(**_public(endpoint).model_dump(), secret=endpoint.secret)


@router.get("/{webhook_id}", response_model=WebhookPublic, responses=errors(404))
def get_webhook(webhook_id: WebhookId, store: StoreDep, _caller: AdminDep) -> WebhookPublic:
    return _public(store.get_webhook(webhook_id))


@router.patch(
    "/{webhook_id}",
    response_model=WebhookPublic,
    responses=errors(404),
    summary="Change an endpoint; `enabled: false` cancels what is queued for it",
)
def update_webhook(
    webhook_id: WebhookId,
    body: WebhookUpdate,
    store: StoreDep,
    settings: SettingsDep,
    resolver: ResolverDep,
    _caller: AdminDep,
) -> WebhookPublic:
    changes = body.model_dump(exclude_unset=True)
    for field in ("url", "min_severity", "payload_format", "group_window_seconds", "enabled"):
        if field in changes and changes[field] is None:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{field} cannot be null")
    if "secret" in changes and changes["secret"] is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "secret cannot be null; give a new whsec_ secret to rotate it",
        )
    endpoint = store.update_webhook(webhook_id, _validated(changes, settings, resolver))
    return _public(endpoint)


@router.delete(
    "/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=errors(404),
    summary="Remove an endpoint, its queue and its delivery log",
)
def delete_webhook(webhook_id: WebhookId, store: StoreDep, _caller: AdminDep) -> None:
    store.delete_webhook(webhook_id)


@router.get(
    "/{webhook_id}/deliveries",
    response_model=DeliveryList,
    responses=errors(404),
    summary="Every delivery attempt, newest first",
)
def list_deliveries(
    webhook_id: WebhookId,
    store: StoreDep,
    _caller: AdminDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> DeliveryList:
    attempts = store.list_deliveries(webhook_id, limit + 1, before)
    page = attempts[:limit]
    return DeliveryList(
        items=[
            DeliveryPublic(
                id=a.id,
                message_id=a.message_id,
                attempt=a.attempt,
                attempted_at=a.attempted_at,
                duration_ms=a.duration_ms,
                status_code=a.status_code,
                outcome=a.outcome,  # type: ignore[arg-type]
                error=a.error,
                retry_at=a.retry_at,
            )
            for a in page
        ],
        next_before=page[-1].id if len(attempts) > limit else None,
    )
