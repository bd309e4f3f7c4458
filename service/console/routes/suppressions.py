"""Suppression rules: list, create, end now, delete (analysts)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from service.console import session
from service.console.routes.anomaly import EXPIRY_DAYS
from service.console.templating import render
from service.store.alerting import MATCH_FIELDS
from service.store.exceptions import InvalidChangeError
from service.store.repository import Store
from service.store.tables import utcnow

router = APIRouter()
SuppressionId = Annotated[int, Path(ge=1, le=2**63 - 1)]
DONE = {"created": "Suppression created.", "expired": "Suppression ended.", "deleted": "Deleted."}


def _page(request: Request, error: str | None = None, status: int = 200) -> Response:
    store: Store = request.app.state.store
    include_expired = request.query_params.get("all") == "1"
    return render(
        request,
        "suppressions.html",
        {
            "rules": store.list_suppressions(include_expired=include_expired),
            "include_expired": include_expired,
            "match_fields": MATCH_FIELDS,
            "expiry_days": EXPIRY_DAYS,
            "now": utcnow(),
            "error": error,
            "done": DONE.get(request.query_params.get("done") or ""),
        },
        status=status,
    )


@router.get("/ui/suppressions", include_in_schema=False)
def suppressions(request: Request, _viewer: session.Analyst) -> Response:
    return _page(request)


@router.post("/ui/suppressions", include_in_schema=False)
def create(request: Request, form: session.Form, viewer: session.AnalystChange) -> Response:
    store: Store = request.app.state.store
    values = {f: (str(form.get(f) or "").strip()[:512] or None) for f in MATCH_FIELDS}
    reason = str(form.get("reason") or "").strip()[:2000]
    expiry = str(form.get("expires") or "30")
    if not reason:
        return _page(request, "Give the reason these anomalies are benign.", 422)
    if expiry not in EXPIRY_DAYS:
        return _page(request, "Choose how long the suppression lasts.", 422)
    days = EXPIRY_DAYS[expiry]
    expires_at = utcnow() + timedelta(days=days) if days is not None else None
    try:
        store.create_suppression(values, reason, expires_at, viewer.key_id)
    except InvalidChangeError as exc:
        return _page(request, str(exc), 422)
    return RedirectResponse("/ui/suppressions?done=created", status_code=303)


@router.post("/ui/suppressions/{suppression_id}/expire", include_in_schema=False)
def expire(
    request: Request, suppression_id: SuppressionId, _viewer: session.AnalystChange
) -> Response:
    request.app.state.store.expire_suppression(suppression_id)
    return RedirectResponse("/ui/suppressions?done=expired", status_code=303)


@router.post("/ui/suppressions/{suppression_id}/delete", include_in_schema=False)
def delete(
    request: Request, suppression_id: SuppressionId, _viewer: session.AnalystChange
) -> Response:
    request.app.state.store.delete_suppression(suppression_id)
    return RedirectResponse("/ui/suppressions?done=deleted", status_code=303)
