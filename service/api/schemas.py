"""Response and request shapes of the public API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Contribution(BaseModel):
    feature: str
    value: float
    typical: float
    contribution: float = Field(description="Share of the event's total deviation, 0–1.")


class ModelRef(BaseModel):
    name: str
    version: str


class AnomalyPublic(BaseModel):
    """A flagged event as analysts and SIEMs see it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    event_id: str
    source: str
    event_time: datetime
    stored_at: datetime
    actor: str | None
    actor_type: str | None
    action: str | None
    resource: str | None
    object: str | None
    namespace: str | None
    outcome: str | None
    source_ip: str | None
    user_agent: str | None
    policy: str | None
    score: float = Field(ge=0, le=100)
    severity: str
    is_anomaly: bool
    explanation: list[Contribution]
    summary: str
    model: ModelRef
    status: str

    @classmethod
    def from_row(cls, row: Any) -> AnomalyPublic:
        data = {name: getattr(row, name) for name in cls.model_fields if name != "model"}
        data["model"] = ModelRef(name=row.model_name, version=row.model_version)
        return cls.model_validate(data)


class AnomalyDetail(AnomalyPublic):
    raw: str = Field(description="The original event, as received.")

    @classmethod
    def from_row(cls, row: Any) -> AnomalyDetail:
        data = AnomalyPublic.from_row(row).model_dump()
        return cls.model_validate({**data, "raw": row.raw})


class AnomalyList(BaseModel):
    items: list[AnomalyPublic]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to continue after the last item; stable across writes."
    )
