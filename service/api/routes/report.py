"""``GET /v1/report``: every model version against its goals (admin), as JSON or SVG."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from service.api.deps import AdminDep, StoreDep
from service.api.routes.models import Registry
from service.api.schemas.common import errors

router = APIRouter(prefix="/v1/report", tags=["models"])


REPORT_CONTENT: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The report (JSON), or with `format=svg` its plot.",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "image/svg+xml": {"schema": {"type": "string"}},
        },
    }
}


@router.get(
    "",
    responses={**REPORT_CONTENT, **errors(503)},
    summary="Model versions over time: rates, cost, reasons",
)
def report(
    store: StoreDep,
    config: Registry,
    _caller: AdminDep,
    format: Annotated[Literal["json", "svg"], Query(description="svg: the plot")] = "json",
) -> Any:
    from service.report import build_report, render_svg

    rows = build_report(store, config)
    if format == "svg":
        return Response(render_svg(rows), media_type="image/svg+xml")
    return {"name": config.model_name, "versions": [r.to_dict() for r in rows]}
