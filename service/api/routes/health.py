"""``/livez``, ``/readyz``, ``/metrics``: unauthenticated, for orchestrators and Prometheus."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

router = APIRouter(tags=["operations"])


@router.get("/livez")
def livez() -> dict[str, str]:
    """The process is up and serving HTTP."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request, response: Response) -> dict[str, Any]:
    """Ready when the store answers and, if this process scores, a model is loaded and
    partitions are assigned."""
    checks: dict[str, bool] = {"store": request.app.state.store.ping()}
    scorer = request.app.state.scorer
    if scorer is not None:
        checks["model_loaded"] = scorer.model is not None
        checks["partitions_assigned"] = scorer.assigned_partitions > 0
    ready = all(checks.values())
    if not ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return {"status": "ready" if ready else "not ready", "checks": checks}


@router.get("/metrics")
def prometheus_metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
