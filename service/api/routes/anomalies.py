"""``/v1/anomalies``: the feed SIEMs pull incrementally and analysts triage."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status

from service.api.deps import AnalystDep, ReaderDep, StoreDep
from service.api.formats import ecs, ocsf
from service.api.schemas import (
    AnomalyDetail,
    AnomalyList,
    AnomalyPublic,
    EcsAlert,
    EcsAlertList,
    HistoryEntry,
    HistoryList,
    OcsfFinding,
    OcsfFindingList,
    SuppressionRef,
    TriageRequest,
    TriageResponse,
    errors,
)
from service.store.exceptions import InvalidChangeError, InvalidCursorError
from service.store.repository import AnomalyFilter
from service.store.tables import Anomaly
from service.store.triage import SuppressRequest

router = APIRouter(prefix="/v1/anomalies", tags=["anomalies"])

Severity = Literal["low", "medium", "high", "critical"]
Status = Literal["new", "acknowledged", "in_progress", "closed", "suppressed"]
Format = Annotated[
    Literal["json", "ocsf", "ecs"],
    Query(
        alias="format",
        description="`json` (default), `ocsf` (OCSF 1.5.0 Detection Findings, class 2004) or "
        "`ecs` (Elastic Common Schema documents with `event.kind: alert`).",
    ),
]
AnomalyId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _render(
    row: Anomaly, format_: str, version: str, detail: bool = False
) -> AnomalyPublic | OcsfFinding | EcsAlert:
    public = AnomalyDetail.from_row(row) if detail else AnomalyPublic.from_row(row)
    if format_ == "ocsf":
        document = ocsf.finding(public, version)
        if detail:
            document["raw_data"] = row.raw
        return OcsfFinding.model_validate(document)
    if format_ == "ecs":
        return EcsAlert.model_validate(ecs.document(public))
    return public


@router.get(
    "",
    response_model=AnomalyList | OcsfFindingList | EcsAlertList,
    responses=errors(400),
    summary="Pull anomalies, oldest first, with an opaque cursor",
)
def list_anomalies(
    request: Request,
    response: Response,
    store: StoreDep,
    _caller: ReaderDep,
    since: Annotated[datetime | None, Query(description="Event time ≥ this (RFC 3339).")] = None,
    until: Annotated[datetime | None, Query(description="Event time < this (RFC 3339).")] = None,
    min_score: Annotated[float | None, Query(ge=0, le=100)] = None,
    severity: Severity | None = None,
    source: Annotated[str | None, Query(max_length=32)] = None,
    actor: Annotated[str | None, Query(max_length=512)] = None,
    namespace: Annotated[str | None, Query(max_length=512)] = None,
    status_: Annotated[Status | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[
        str | None, Query(max_length=200, description="`next_cursor` of a previous page.")
    ] = None,
    format_: Format = "json",
) -> AnomalyList | OcsfFindingList | EcsAlertList:
    """Records come in commit order; following `next_cursor` returns every record exactly
    once, even while new ones are being written. At the end `next_cursor` stays valid:
    resume from it later. A `Link: <…>; rel="next"` header is set while more pages exist."""
    filters = AnomalyFilter(since, until, min_score, severity, source, actor, namespace, status_)
    try:
        rows, next_cursor, has_more = store.list_anomalies(filters, limit, cursor)
    except InvalidCursorError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from exc
    if has_more and next_cursor:
        next_url = request.url.include_query_params(cursor=next_cursor)
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    version = request.app.version
    if format_ == "ocsf":
        findings = [_render(r, "ocsf", version) for r in rows]
        return OcsfFindingList.model_validate({"items": findings, "next_cursor": next_cursor})
    if format_ == "ecs":
        alerts = [_render(r, "ecs", version) for r in rows]
        return EcsAlertList.model_validate({"items": alerts, "next_cursor": next_cursor})
    return AnomalyList(items=[AnomalyPublic.from_row(r) for r in rows], next_cursor=next_cursor)


@router.get(
    "/{anomaly_id}",
    response_model=AnomalyDetail | OcsfFinding | EcsAlert,
    responses=errors(404),
    summary="One anomaly, with the raw event",
)
def get_anomaly(
    request: Request,
    anomaly_id: AnomalyId,
    store: StoreDep,
    _caller: ReaderDep,
    format_: Format = "json",
) -> AnomalyPublic | OcsfFinding | EcsAlert:
    row = store.get_anomaly(anomaly_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no anomaly with id {anomaly_id}")
    return _render(row, format_, request.app.version, detail=True)


@router.patch(
    "/{anomaly_id}",
    response_model=TriageResponse,
    responses=errors(404, 409),
    summary="Triage: status, verdict, assignee, note; optionally suppress similar anomalies",
)
def triage_anomaly(
    anomaly_id: AnomalyId, body: TriageRequest, store: StoreDep, caller: AnalystDep
) -> TriageResponse:
    """Every changed field is recorded in the history with the calling key's id.

    A `verdict` is given when closing (reopening clears it). Closing as
    `false_positive` can create a suppression rule in the same call: `suppress.fields`
    names which of the anomaly's own values (source, actor, action, resource,
    namespace) future anomalies must all match to be stored as `suppressed`."""
    suppress = (
        SuppressRequest(body.suppress.fields, body.suppress.reason, body.suppress.expires_at)
        if body.suppress is not None
        else None
    )
    try:
        outcome = store.triage(anomaly_id, body.requested(), caller.key_id, body.note, suppress)
    except InvalidChangeError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    rule = outcome.suppression
    return TriageResponse(
        anomaly=AnomalyDetail.from_row(outcome.anomaly),
        changes=[HistoryEntry.model_validate(c) for c in outcome.changes],
        suppression=None
        if rule is None
        else SuppressionRef.model_validate(rule, from_attributes=True),
    )


@router.get(
    "/{anomaly_id}/history",
    response_model=HistoryList,
    responses=errors(404),
    summary="Every triage change: who (key id), when, field, from, to",
)
def anomaly_history(anomaly_id: AnomalyId, store: StoreDep, _caller: ReaderDep) -> HistoryList:
    changes = store.history(anomaly_id)
    return HistoryList(items=[HistoryEntry.model_validate(c) for c in changes])
