"""Application factory: wires routers to one store (and, in ``serve --role all``, the scorer)."""

from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import InterfaceError, OperationalError

from service.api.limits import BodySizeLimit
from service.api.routes import (
    anomalies,
    health,
    keys,
    models,
    report,
    score,
    suppressions,
    webhooks,
)
from service.api.scoring_model import ModelProvider
from service.config import Settings
from service.console import app as console
from service.consumer import ScorerLoop
from service.store.exceptions import NotFoundError
from service.store.repository import Store
from service.webhooks.urls import Resolver, resolve

log = logging.getLogger(__name__)

DESCRIPTION = """
Anomalies in Kubernetes audit, CloudTrail and policy-engine events, scored against
baselines learned from the environment's own history.

Every `/v1` route needs `Authorization: Bearer <key>` (from `auditlens keys create` or
`POST /v1/keys`). Roles are ordered: **reader** pulls anomalies; **analyst** also
triages, scores and manages suppressions; **admin** also manages webhooks, keys and
model versions.
Errors have the body `{"detail": "<what is wrong>"}`.
"""

ROUTERS = (health, anomalies, score, suppressions, webhooks, keys, models, report)
TAGS = [
    {"name": "anomalies", "description": "The feed (reader) and its triage (analyst)."},
    {"name": "scoring", "description": "Score raw events synchronously (analyst)."},
    {"name": "suppressions", "description": "Silence known-benign patterns (analyst)."},
    {"name": "webhooks", "description": "Signed alert delivery (admin)."},
    {"name": "keys", "description": "API keys (admin)."},
    {"name": "models", "description": "Registered model versions and the champion (admin)."},
    {"name": "operations", "description": "Health and metrics (no key)."},
]


def _version() -> str:
    try:
        return version("auditlens")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0"


def default_model_provider(settings: Settings, scorer: ScorerLoop | None) -> ModelProvider:
    """The champion from the MLflow registry, loaded on first use (or the scorer's model)."""
    from models import registry_reader
    from models.registry_config import RegistryConfig

    def config() -> RegistryConfig:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return RegistryConfig(
            tracking_uri=settings.mlflow_tracking_uri,
            artifact_root=settings.mlflow_artifact_root,
            model_name=settings.model_name,
        )

    return ModelProvider(
        scorer,
        load=lambda: registry_reader.load(config(), settings.model_alias),
        current_version=lambda: registry_reader.alias_version(config(), settings.model_alias),
        refresh_s=settings.model_refresh_s,
        unavailable_hint=f"no version of {settings.model_name} carries the alias "
        f"{settings.model_alias!r}; run `auditlens train --data ... --promote` first",
    )


def create_app(
    store: Store,
    scorer: ScorerLoop | None = None,
    settings: Settings | None = None,
    model_provider: ModelProvider | None = None,
    resolver: Resolver = resolve,
    operations_only: bool = False,
) -> FastAPI:
    """The API over ``store``; ``resolver`` resolves webhook hosts for the address check.

    ``operations_only`` serves ``/livez``, ``/readyz`` and ``/metrics`` alone: what a
    scorer or dispatcher process offers its orchestrator and Prometheus.
    """
    settings = settings or Settings()
    app = FastAPI(
        title="auditlens",
        version=_version(),
        summary="Anomalies in Kubernetes audit, CloudTrail and policy-engine events.",
        description=DESCRIPTION,
        openapi_tags=TAGS,
    )
    app.state.store = store
    app.state.scorer = scorer
    app.state.settings = settings
    app.state.model_provider = model_provider or default_model_provider(settings, scorer)
    app.state.resolver = resolver
    app.add_middleware(BodySizeLimit, max_bytes=settings.api_max_body_bytes)
    app.add_exception_handler(NotFoundError, _not_found)
    app.add_exception_handler(OperationalError, _store_unavailable)
    app.add_exception_handler(InterfaceError, _store_unavailable)
    for module in ROUTERS:
        if operations_only and module is not health:
            continue
        app.include_router(module.router)
    if not operations_only:
        console.install(app)
    return app


async def _store_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    """The store did not answer (down, restarting): 503, so clients retry; no traceback.

    The engine's pre-ping replaces broken connections, so the next request after the
    store's return succeeds by itself.
    """
    log.warning("store unavailable: %s", str(exc).splitlines()[0] if str(exc) else exc)
    return JSONResponse(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        content={"detail": "the store is unavailable; retry shortly"},
        headers={"Retry-After": "2"},
    )


async def _not_found(request: Request, exc: Exception) -> Response:
    """Any route addressing a row that does not exist: 404, shaped like FastAPI's errors
    (a page, in the console)."""
    if console.is_console(request):
        return await console.render_not_found(request, str(exc))
    return JSONResponse(status_code=status.HTTP_404_NOT_FOUND, content={"detail": str(exc)})
