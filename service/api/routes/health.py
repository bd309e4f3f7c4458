"""``/livez``, ``/readyz``, ``/metrics``: unauthenticated, for orchestrators and Prometheus."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response, status
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

router = APIRouter(tags=["operations"])


class Live(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ready", "not ready"]
    checks: dict[str, bool] = Field(
        description="`store`; with an in-process scorer also `model_loaded` and "
        "`partitions_assigned`.",
        examples=[{"store": True, "model_loaded": True, "partitions_assigned": True}],
    )
    degraded: list[str] = Field(
        default_factory=list,
        description="Dependencies that are down without stopping the work: `model_registry` "
        "(the scorer goes on with the model it has, and swaps in no new version).",
        examples=[["model_registry"]],
    )


@router.get("/livez", response_model=Live)
def livez() -> Live:
    """The process is up and serving HTTP."""
    return Live(status="ok")


@router.get(
    "/readyz",
    response_model=Ready,
    responses={503: {"model": Ready, "description": "A check failed"}},
)
def readyz(request: Request, response: Response) -> Ready:
    """Ready when the store answers and, if this process scores, a model is loaded and
    partitions are assigned."""
    checks: dict[str, bool] = {"store": request.app.state.store.ping()}
    scorer = request.app.state.scorer
    if scorer is not None:
        checks["model_loaded"] = scorer.model is not None
        checks["partitions_assigned"] = scorer.assigned_partitions > 0
    degraded = [] if scorer is None or scorer.registry_reachable else ["model_registry"]
    ready = all(checks.values())
    if not ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Ready(status="ready" if ready else "not ready", checks=checks, degraded=degraded)


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition format (metrics prefixed `auditlens_`).",
            "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
        }
    },
)
def prometheus_metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
