"""``/livez``, ``/readyz``, ``/metrics``: unauthenticated, for orchestrators and Prometheus."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response, status
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

router = APIRouter(tags=["operations"])


class Live(BaseModel):
    status: Literal["ok", "stalled", "stopped"]
    stalled_s: float | None = Field(
        default=None,
        description="With an in-process scorer: seconds records have waited with no batch "
        "finished (0 when nothing waits).",
    )


class Ready(BaseModel):
    status: Literal["ready", "not ready"]
    checks: dict[str, bool] = Field(
        description="`store`; with an in-process scorer also `model_loaded`, "
        "`partitions_assigned` and `broker` (the group coordinator answered within a "
        "session timeout).",
        examples=[
            {"store": True, "model_loaded": True, "partitions_assigned": True, "broker": True}
        ],
    )
    degraded: list[str] = Field(
        default_factory=list,
        description="Dependencies that are down without stopping the work: `model_registry` "
        "(the scorer goes on with the model it has, and swaps in no new version).",
        examples=[["model_registry"]],
    )


@router.get(
    "/livez",
    response_model=Live,
    response_model_exclude_none=True,
    responses={503: {"model": Live, "description": "The scorer is stuck"}},
)
def livez(request: Request, response: Response) -> Live:
    """The process is up and, if it scores, not stuck: 503 once records have waited
    ``AUDITLENS_STALL_S`` with no batch finished, so the orchestrator restarts it.

    A scorer thread that ended (it refused the model) fails it too. A scorer waiting
    for its store is not stuck (``/readyz`` reports that, and the
    batch goes through once the store is back), nor is one with nothing to do.
    """
    scorer = request.app.state.scorer
    if scorer is None:
        return Live(status="ok")
    if scorer.ended:  # the scorer thread gave up (a model it must refuse): restart
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Live(status="stopped")
    stalled_s = scorer.progress.stalled_for()
    if stalled_s > request.app.state.settings.stall_s and scorer.store_reachable:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Live(status="stalled", stalled_s=round(stalled_s, 3))
    return Live(status="ok", stalled_s=round(stalled_s, 3))


@router.get(
    "/readyz",
    response_model=Ready,
    responses={503: {"model": Ready, "description": "A check failed"}},
)
def readyz(request: Request, response: Response) -> Ready:
    """Ready when the store answers and, if this process scores, a model is loaded,
    partitions are assigned and the broker answers."""
    checks: dict[str, bool] = {"store": request.app.state.store.ping()}
    scorer = request.app.state.scorer
    if scorer is not None:
        checks["model_loaded"] = scorer.model is not None
        checks["partitions_assigned"] = scorer.assigned_partitions > 0
        checks["broker"] = scorer.broker_answering
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
