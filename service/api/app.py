"""Application factory: wires routers to one store (and, in ``serve --role all``, the scorer)."""

from __future__ import annotations

from fastapi import FastAPI

from service.api.routes import anomalies, health
from service.consumer import ScorerLoop
from service.store.repository import Store


def create_app(store: Store, scorer: ScorerLoop | None = None) -> FastAPI:
    app = FastAPI(
        title="auditlens",
        version="0.1.0",
        summary="Anomalies in Kubernetes audit, CloudTrail and policy-engine events.",
    )
    app.state.store = store
    app.state.scorer = scorer
    app.include_router(health.router)
    app.include_router(anomalies.router)
    return app
