"""``/v1/anomalies``: the feed analysts triage and SIEMs pull incrementally."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response, status

from service.api.deps import StoreDep, require
from service.api.schemas import AnomalyDetail, AnomalyList, AnomalyPublic
from service.store.exceptions import InvalidCursorError
from service.store.repository import AnomalyFilter

router = APIRouter(prefix="/v1/anomalies", tags=["anomalies"])

Severity = Literal["low", "medium", "high", "critical"]


@router.get("", response_model=AnomalyList, dependencies=[require("reader")])
def list_anomalies(
    request: Request,
    response: Response,
    store: StoreDep,
    since: Annotated[datetime | None, Query(description="Event time ≥ this (RFC 3339).")] = None,
    until: Annotated[datetime | None, Query(description="Event time < this (RFC 3339).")] = None,
    min_score: Annotated[float | None, Query(ge=0, le=100)] = None,
    severity: Severity | None = None,
    source: str | None = None,
    actor: str | None = None,
    namespace: str | None = None,
    status_: Annotated[str | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(description="`next_cursor` of a previous page.")] = None,
) -> AnomalyList:
    filters = AnomalyFilter(since, until, min_score, severity, source, actor, namespace, status_)
    try:
        items, next_cursor, has_more = store.list_anomalies(filters, limit, cursor)
    except InvalidCursorError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from exc
    if has_more and next_cursor:
        next_url = request.url.include_query_params(cursor=next_cursor)
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return AnomalyList(items=[AnomalyPublic.from_row(i) for i in items], next_cursor=next_cursor)


@router.get("/{anomaly_id}", response_model=AnomalyDetail, dependencies=[require("reader")])
def get_anomaly(anomaly_id: int, store: StoreDep) -> AnomalyDetail:
    row = store.get_anomaly(anomaly_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no anomaly with id {anomaly_id}")
    return AnomalyDetail.from_row(row)
