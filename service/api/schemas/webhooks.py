"""Webhook endpoints and their delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["low", "medium", "high", "critical"]
PayloadFormat = Literal["standard", "slack", "alertmanager"]

_URL = Field(
    min_length=1,
    max_length=2048,
    description="http(s) URL; it must resolve to a public address unless "
    "AUDITLENS_WEBHOOK_ALLOW_PRIVATE is set. Or `kafka://<topic>`: the alerts are "
    "published to that topic on the service's own Kafka cluster.",
)
_SECRET = Field(
    default=None,
    pattern=r"^whsec_[A-Za-z0-9+/=]+$",
    max_length=128,
    description="`whsec_` + base64 of 24–64 random bytes; generated when omitted.",
)


class WebhookCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://siem.example.com/hooks/auditlens",
                    "min_severity": "high",
                    "namespace": "prod",
                    "payload_format": "standard",
                }
            ]
        },
    )

    url: str = _URL
    secret: str | None = _SECRET
    description: str | None = Field(default=None, max_length=256)
    min_severity: Severity = "low"
    source: str | None = Field(default=None, min_length=1, max_length=32)
    namespace: str | None = Field(default=None, min_length=1, max_length=512)
    actor: str | None = Field(default=None, min_length=1, max_length=512)
    payload_format: PayloadFormat = "standard"
    group_window_seconds: int = Field(
        default=30,
        ge=0,
        le=3600,
        description="Hold each alert this long; repeats (same actor, same top explanation "
        "feature) arriving meanwhile join it as one alert with a `count`. 0 sends at once.",
    )


class WebhookUpdate(BaseModel):
    """Give the fields to change; `enabled: true` re-enables an endpoint disabled by a 410."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"enabled": True}]})

    url: str | None = Field(default=None, min_length=1, max_length=2048)
    secret: str | None = _SECRET
    description: str | None = Field(default=None, max_length=256)
    min_severity: Severity | None = None
    source: str | None = Field(default=None, min_length=1, max_length=32)
    namespace: str | None = Field(default=None, min_length=1, max_length=512)
    actor: str | None = Field(default=None, min_length=1, max_length=512)
    payload_format: PayloadFormat | None = None
    group_window_seconds: int | None = Field(default=None, ge=0, le=3600)
    enabled: bool | None = None


class WebhookPublic(BaseModel):
    id: int
    url: str
    description: str | None
    min_severity: Severity
    source: str | None
    namespace: str | None
    actor: str | None
    payload_format: PayloadFormat
    group_window_seconds: int
    enabled: bool
    disabled_reason: str | None
    created_at: datetime
    created_by: str
    updated_at: datetime | None


class WebhookCreated(WebhookPublic):
    secret: str = Field(description="The signing secret. It is shown only in this response.")


class WebhookList(BaseModel):
    items: list[WebhookPublic]


class DeliveryPublic(BaseModel):
    id: int
    message_id: str = Field(description="The `webhook-id` header: the same for every retry.")
    attempt: int
    attempted_at: datetime
    duration_ms: float
    status_code: int | None
    outcome: Literal["delivered", "retry", "dead", "disabled"]
    error: str | None
    retry_at: datetime | None


class DeliveryList(BaseModel):
    items: list[DeliveryPublic]
    next_before: int | None = Field(
        description="Pass as `before` for older attempts; null on the last page."
    )
