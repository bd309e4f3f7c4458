"""``POST /v1/score``: raw events in, one result per input element out."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from service.api.schemas.anomalies import Contribution, ModelRef

EXAMPLE_EVENT: dict[str, Any] = {
    "kind": "Event",
    "apiVersion": "audit.k8s.io/v1",
    "level": "Metadata",
    "auditID": "4d2f6c0e-1f53-4c1f-9a4e-3f0c8a1d2b7e",
    "stage": "ResponseComplete",
    "verb": "create",
    "user": {"username": "alice@example.com"},
    "sourceIPs": ["10.0.4.7"],
    "objectRef": {"resource": "clusterrolebindings", "name": "tmp-admin"},
    "responseStatus": {"code": 201},
    "requestReceivedTimestamp": "2026-03-02T03:14:00.000000Z",
    "stageTimestamp": "2026-03-02T03:14:00.010000Z",
}


class ScoreRequest(BaseModel):
    """The envelope form of the body; a bare JSON array of raw events works too."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"events": [EXAMPLE_EVENT]}]}
    )

    events: list[Any] = Field(
        description="Raw events as the sources write them (any supported source, detected "
        "per event); an element may also be a container such as an EventList."
    )


class ScoredEvent(BaseModel):
    """One scored event: the same record ``auditlens score`` writes."""

    model_config = ConfigDict(extra="allow")

    event_id: str
    source: str
    event_time: str
    score: float
    severity: str
    is_anomaly: bool
    explanation: list[Contribution]
    summary: str
    model: ModelRef


class ItemError(BaseModel):
    reason: str = Field(description="Stable snake_case label, e.g. `unknown_shape`.")
    detail: str


class ScoreItem(BaseModel):
    """The result for one element of the request, in request order."""

    index: int = Field(description="Position of the element in the request.")
    status: int = Field(description="200 when scored, 422 when the element was rejected.")
    events: list[ScoredEvent] = Field(
        description="Scored events of the element (a container yields several; a Kubernetes "
        "audit stage other than ResponseComplete yields none)."
    )
    error: ItemError | None


class ScoreResponse(BaseModel):
    model: ModelRef
    scored: int = Field(description="Events scored.")
    rejected: int = Field(description="Elements rejected.")
    items: list[ScoreItem]
