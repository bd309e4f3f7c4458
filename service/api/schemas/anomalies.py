"""Anomalies as analysts and SIEMs see them, their triage and its history."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

Status = Literal["new", "acknowledged", "in_progress", "closed", "suppressed"]
TriageStatus = Literal["new", "acknowledged", "in_progress", "closed"]
Verdict = Literal["true_positive", "benign_positive", "false_positive"]
MatchField = Literal["source", "actor", "action", "resource", "namespace"]


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

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 17,
                    "event_id": "4d2f6c0e-1f53-4c1f-9a4e-3f0c8a1d2b7e",
                    "source": "k8s_audit",
                    "event_time": "2026-03-02T03:14:00Z",
                    "stored_at": "2026-03-02T03:14:02Z",
                    "actor": "alice@example.com",
                    "actor_type": "user",
                    "action": "create",
                    "resource": "clusterrolebindings",
                    "object": "tmp-admin",
                    "namespace": None,
                    "outcome": "allow",
                    "source_ip": "10.0.4.7",
                    "user_agent": "kubectl/v1.30.0",
                    "policy": None,
                    "score": 71.2,
                    "severity": "high",
                    "is_anomaly": True,
                    "explanation": [
                        {
                            "feature": "touches_rbac",
                            "value": 1.0,
                            "typical": 0.0,
                            "contribution": 0.62,
                        }
                    ],
                    "summary": "alice@example.com create clusterrolebindings: touches_rbac 1 "
                    "(typical 0)",
                    "model": {"name": "auditlens", "version": "3"},
                    "status": "new",
                    "verdict": None,
                    "assignee": None,
                    "updated_at": None,
                    "suppression_id": None,
                }
            ]
        }
    )

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
    status: Status = Field(description="Triage status; `suppressed` when a suppression matched.")
    verdict: Verdict | None
    assignee: str | None
    updated_at: datetime | None = Field(description="Last triage change, if any.")
    suppression_id: int | None = Field(description="The suppression rule that matched, if any.")

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


class OcsfFinding(BaseModel):
    """An OCSF Detection Finding (class 2004); the attributes listed are always present."""

    model_config = ConfigDict(extra="allow")

    class_uid: Literal[2004]
    category_uid: Literal[2]
    activity_id: int
    type_uid: int
    severity_id: int
    status_id: int
    time: int = Field(description="Finding creation time, epoch milliseconds.")
    metadata: dict[str, Any]
    finding_info: dict[str, Any]


class OcsfFindingList(BaseModel):
    items: list[OcsfFinding]
    next_cursor: str | None


class EcsAlert(BaseModel):
    """An Elastic Common Schema document with ``event.kind: alert``."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    timestamp: str = Field(alias="@timestamp")
    event: dict[str, Any]
    message: str


class EcsAlertList(BaseModel):
    items: list[EcsAlert]
    next_cursor: str | None


class SuppressFromTriage(BaseModel):
    """Create a suppression rule from this anomaly's own values of ``fields``."""

    model_config = ConfigDict(extra="forbid")

    fields: list[MatchField] = Field(min_length=1, examples=[["actor", "action"]])
    reason: str = Field(min_length=1, max_length=2000, examples=["nightly cleanup job"])
    expires_at: AwareDatetime | None = None


class TriageRequest(BaseModel):
    """Give any of the fields; omitted ones stay as they are (``assignee: null`` unassigns)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"status": "acknowledged", "assignee": "bob@example.com"},
                {
                    "status": "closed",
                    "verdict": "false_positive",
                    "note": "the CI cluster-admin rotation",
                    "suppress": {
                        "fields": ["actor", "resource"],
                        "reason": "CI rotates its own binding nightly",
                    },
                },
            ]
        },
    )

    status: TriageStatus | None = None
    verdict: Verdict | None = None
    assignee: str | None = Field(default=None, max_length=256)
    note: str | None = Field(default=None, min_length=1, max_length=10_000)
    suppress: SuppressFromTriage | None = None

    @model_validator(mode="after")
    def _something_to_do(self) -> TriageRequest:
        if not self.model_fields_set:
            raise ValueError("nothing to change: give status, verdict, assignee, note or suppress")
        if "status" in self.model_fields_set and self.status is None:
            raise ValueError("status cannot be null")
        return self

    def requested(self) -> dict[str, str | None]:
        """The triage fields the caller gave (``assignee`` may be an explicit null)."""
        return {
            f: getattr(self, f)
            for f in ("status", "verdict", "assignee")
            if f in self.model_fields_set
        }


class HistoryEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    changed_at: datetime
    changed_by: str = Field(description="The id of the API key that made the change.")
    field: str = Field(description="status, verdict, assignee, note or suppression")
    old_value: str | None = Field(serialization_alias="from")
    new_value: str | None = Field(serialization_alias="to")


class HistoryList(BaseModel):
    items: list[HistoryEntry]


class SuppressionRef(BaseModel):
    id: int
    source: str | None
    actor: str | None
    action: str | None
    resource: str | None
    namespace: str | None
    reason: str
    expires_at: datetime | None


class TriageResponse(BaseModel):
    anomaly: AnomalyDetail
    changes: list[HistoryEntry] = Field(description="What this request changed.")
    suppression: SuppressionRef | None = Field(
        description="The suppression rule created with this change, if one was asked for."
    )
