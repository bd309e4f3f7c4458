"""Suppression rules."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator


class SuppressionCreate(BaseModel):
    """Anomalies matching every given field are stored as `suppressed` and not alerted."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "actor": "system:serviceaccount:ci:deployer",
                    "action": "delete",
                    "reason": "CI deletes its preview namespaces",
                    "expires_at": "2026-06-01T00:00:00Z",
                }
            ]
        },
    )

    source: str | None = Field(default=None, min_length=1, max_length=32)
    actor: str | None = Field(default=None, min_length=1, max_length=512)
    action: str | None = Field(default=None, min_length=1, max_length=256)
    resource: str | None = Field(default=None, min_length=1, max_length=512)
    namespace: str | None = Field(default=None, min_length=1, max_length=512)
    reason: str = Field(min_length=1, max_length=2000)
    expires_at: AwareDatetime | None = Field(
        default=None, description="The rule stops applying at this time (RFC 3339)."
    )

    @model_validator(mode="after")
    def _pins_something(self) -> SuppressionCreate:
        if all(
            getattr(self, f) is None for f in ("source", "actor", "action", "resource", "namespace")
        ):
            raise ValueError(
                "a suppression needs at least one of source, actor, action, resource, "
                "namespace; a rule without fields would silence every anomaly"
            )
        return self


class SuppressionPublic(BaseModel):
    id: int
    source: str | None
    actor: str | None
    action: str | None
    resource: str | None
    namespace: str | None
    reason: str
    expires_at: datetime | None
    created_at: datetime
    created_by: str = Field(description="The id of the API key that created the rule.")
    active: bool = Field(description="False once expired.")
    suppressed: int = Field(description="Anomalies stored as suppressed by this rule so far.")


class SuppressionList(BaseModel):
    items: list[SuppressionPublic]
