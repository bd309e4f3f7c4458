"""One anomaly: why it was flagged, the raw event, the entity's context, and its triage."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from service.config import Settings
from service.console import session
from service.console.charts import explanation_bars
from service.console.context import entity_context
from service.console.errors import ConsoleError
from service.console.templating import render
from service.store.alerting import MATCH_FIELDS
from service.store.exceptions import InvalidChangeError
from service.store.repository import Store
from service.store.tables import utcnow
from service.store.triage import STATUSES, VERDICTS, SuppressRequest

router = APIRouter()
AnomalyId = Annotated[int, Path(ge=1, le=2**63 - 1)]
# Fields "suppress similar" pins by default: who did what to which kind of object.
DEFAULT_SUPPRESS_FIELDS = ("source", "actor", "action", "resource")
EXPIRY_DAYS = {"7": 7, "30": 30, "90": 90, "never": None}
DONE = {
    "triaged": "Triage saved.",
    "suppressed": "Closed as a false positive; similar anomalies will be suppressed.",
    "unchanged": "Nothing to change.",
}


def _detail(
    request: Request,
    anomaly_id: int,
    error: str | None = None,
    status: int = 200,
) -> Response:
    store: Store = request.app.state.store
    settings: Settings = request.app.state.settings
    anomaly = store.get_anomaly(anomaly_id)
    if anomaly is None:
        raise ConsoleError(404, f"there is no anomaly {anomaly_id}")
    archive = settings.resolved_archive_url if settings.archive_enabled else None
    earlier = (
        [a for a in store.entity_anomalies(anomaly.actor) if a.id != anomaly.id]
        if anomaly.actor
        else []
    )
    return render(
        request,
        "anomaly.html",
        {
            "anomaly": anomaly,
            "bars": explanation_bars(anomaly.explanation or [], width=560, row=44),
            "context": entity_context(anomaly, archive, settings.ui_activity_days),
            "earlier": earlier,
            "history": store.history(anomaly_id),
            "statuses": STATUSES,
            "verdicts": VERDICTS,
            "match_fields": MATCH_FIELDS,
            "default_fields": DEFAULT_SUPPRESS_FIELDS,
            "expiry_days": EXPIRY_DAYS,
            "error": error,
            "done": DONE.get(request.query_params.get("done") or ""),
        },
        status=status,
    )


@router.get("/ui/anomalies/{anomaly_id}", include_in_schema=False)
def anomaly_page(request: Request, anomaly_id: AnomalyId, _viewer: session.Reader) -> Response:
    return _detail(request, anomaly_id)


def _text(value: object, limit: int) -> str | None:
    text = str(value or "").strip()
    return text[:limit] if text else None


@router.post("/ui/anomalies/{anomaly_id}/triage", include_in_schema=False)
def triage(
    request: Request, anomaly_id: AnomalyId, form: session.Form, viewer: session.AnalystChange
) -> Response:
    """Status, verdict, assignee and a note, recorded in the history like the API's PATCH."""
    store: Store = request.app.state.store
    status_ = _text(form.get("status"), 16)
    verdict = _text(form.get("verdict"), 32)
    if status_ not in STATUSES or (verdict is not None and verdict not in VERDICTS):
        return _detail(request, anomaly_id, "Choose a status and verdict from the lists.", 422)
    requested = {
        "status": status_,
        "verdict": verdict,
        "assignee": _text(form.get("assignee"), 256),
    }
    note = _text(form.get("note"), 10_000)
    try:
        outcome = store.triage(anomaly_id, requested, viewer.key_id, note)
    except InvalidChangeError as exc:
        return _detail(request, anomaly_id, str(exc), 409)
    done = "triaged" if outcome.changes else "unchanged"
    return RedirectResponse(f"/ui/anomalies/{anomaly_id}?done={done}", status_code=303)


@router.post("/ui/anomalies/{anomaly_id}/suppress", include_in_schema=False)
def close_and_suppress(
    request: Request, anomaly_id: AnomalyId, form: session.Form, viewer: session.AnalystChange
) -> Response:
    """Close as a false positive and suppress anomalies sharing the chosen values of this one."""
    store: Store = request.app.state.store
    fields = [f for f in form.getlist("field") if f in MATCH_FIELDS]
    reason = _text(form.get("reason"), 2000)
    if not fields:
        return _detail(request, anomaly_id, "Pick at least one field to match on.", 422)
    if reason is None:
        return _detail(request, anomaly_id, "Give the reason these anomalies are benign.", 422)
    expiry = str(form.get("expires") or "30")
    if expiry not in EXPIRY_DAYS:
        return _detail(request, anomaly_id, "Choose how long the suppression lasts.", 422)
    days = EXPIRY_DAYS[expiry]
    expires_at = utcnow() + timedelta(days=days) if days is not None else None
    requested = {"status": "closed", "verdict": "false_positive"}
    try:
        store.triage(
            anomaly_id,
            requested,
            viewer.key_id,
            _text(form.get("note"), 10_000),
            SuppressRequest(fields, reason, expires_at),
        )
    except InvalidChangeError as exc:
        return _detail(request, anomaly_id, str(exc), 409)
    return RedirectResponse(f"/ui/anomalies/{anomaly_id}?done=suppressed", status_code=303)
