"""Admin pages: webhooks and their delivery log, API keys, model versions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from models.registry_config import RegistryConfig
from service.api.deps import get_store
from service.api.routes.webhooks import _validated
from service.api.schemas.webhooks import PayloadFormat, Severity, WebhookCreate
from service.config import Settings
from service.console import session
from service.console.errors import ConsoleError
from service.console.templating import render
from service.dependencies import as_unavailable
from service.store.keys import ROLES
from service.webhooks.signing import generate_secret

router = APIRouter()
WebhookId = Annotated[int, Path(ge=1, le=2**63 - 1)]
SEVERITY_CHOICES: tuple[Severity, ...] = ("low", "medium", "high", "critical")
FORMAT_CHOICES: tuple[PayloadFormat, ...] = ("standard", "slack", "alertmanager")


# --- webhooks ---------------------------------------------------------------------------


def _webhooks_page(
    request: Request, error: str | None = None, created: Any = None, status: int = 200
) -> Response:
    store = get_store(request)
    endpoints = store.list_webhooks()
    return render(
        request,
        "webhooks.html",
        {
            "endpoints": [(e, store.outbox_counts(e.id)) for e in endpoints],
            "severities": SEVERITY_CHOICES,
            "formats": FORMAT_CHOICES,
            "created": created,
            "error": error,
        },
        status=status,
    )


@router.get("/ui/webhooks", include_in_schema=False)
def webhooks(request: Request, _viewer: session.Admin) -> Response:
    return _webhooks_page(request)


@router.post("/ui/webhooks", include_in_schema=False)
def create_webhook(request: Request, form: session.Form, viewer: session.AdminChange) -> Response:
    """Checked exactly as ``POST /v1/webhooks``; the secret is shown on this page only."""
    fields = (
        "url",
        "description",
        "min_severity",
        "source",
        "namespace",
        "actor",
        "payload_format",
    )
    values = {f: str(form.get(f) or "").strip() or None for f in fields}
    try:
        body = WebhookCreate.model_validate({k: v for k, v in values.items() if v is not None})
        settings: Settings = request.app.state.settings
        checked = _validated(body.model_dump(), settings, request.app.state.resolver)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return _webhooks_page(request, problems, status=422)
    except HTTPException as exc:
        return _webhooks_page(request, str(exc.detail), status=exc.status_code)
    checked["secret"] = checked["secret"] or generate_secret()
    endpoint = get_store(request).create_webhook(checked, viewer.key_id)
    return _webhooks_page(request, created=endpoint, status=201)


@router.get("/ui/webhooks/{webhook_id}", include_in_schema=False)
def webhook(request: Request, webhook_id: WebhookId, _viewer: session.Admin) -> Response:
    store = get_store(request)
    endpoint = store.get_webhook(webhook_id)
    return render(
        request,
        "webhook.html",
        {
            "endpoint": endpoint,
            "counts": store.outbox_counts(webhook_id),
            "deliveries": store.list_deliveries(webhook_id, 200),
        },
    )


@router.post("/ui/webhooks/{webhook_id}/delete", include_in_schema=False)
def delete_webhook(
    request: Request, webhook_id: WebhookId, _viewer: session.AdminChange
) -> Response:
    get_store(request).delete_webhook(webhook_id)
    return RedirectResponse("/ui/webhooks", status_code=303)


# --- API keys ---------------------------------------------------------------------------


def _keys_page(
    request: Request, error: str | None = None, issued: Any = None, status: int = 200
) -> Response:
    return render(
        request,
        "keys.html",
        {
            "keys": get_store(request).list_api_keys(),
            "roles": ROLES,
            "issued": issued,
            "error": error,
        },
        status=status,
    )


@router.get("/ui/keys", include_in_schema=False)
def keys(request: Request, _viewer: session.Admin) -> Response:
    return _keys_page(request)


@router.post("/ui/keys", include_in_schema=False)
def issue_key(request: Request, form: session.Form, viewer: session.AdminChange) -> Response:
    role = str(form.get("role") or "")
    name = str(form.get("name") or "").strip()[:128] or None
    if role not in ROLES:
        return _keys_page(request, f"role must be one of {', '.join(ROLES)}", status=422)
    issued = get_store(request).issue_api_key(role, name, created_by=viewer.key_id)
    return _keys_page(request, issued=issued, status=201)


@router.post("/ui/keys/{key_id}/revoke", include_in_schema=False)
def revoke_key(
    request: Request,
    key_id: Annotated[str, Path(max_length=32)],
    viewer: session.AdminChange,
) -> Response:
    if key_id == viewer.key_id:
        return _keys_page(request, "this is the key you are signed in with; use another", 409)
    get_store(request).revoke_api_key(key_id)
    return RedirectResponse("/ui/keys", status_code=303)


# --- models -----------------------------------------------------------------------------


def _registry(request: Request) -> RegistryConfig:
    settings: Settings = request.app.state.settings
    return RegistryConfig(
        tracking_uri=settings.mlflow_tracking_uri,
        artifact_root=settings.mlflow_artifact_root,
        model_name=settings.model_name,
    )


def _unavailable(request: Request, exc: Exception) -> ConsoleError:
    unavailable = as_unavailable(exc, request.app.state.settings)
    if unavailable is None:
        raise exc
    return ConsoleError(503, str(unavailable))


SHOWN_METRICS = ("validation_alert_rate", "pr_auc", "roc_auc", "training_seconds")


@router.get("/ui/models", include_in_schema=False)
def models_page(request: Request, _viewer: session.Admin) -> Response:
    from models import registry

    config = _registry(request)
    try:
        versions = registry.list_versions(config)
        for version in versions:
            metrics = registry.run_metrics(config, version["run_id"]) if version["run_id"] else {}
            version["metrics"] = {k: metrics[k] for k in SHOWN_METRICS if k in metrics}
    except Exception as exc:
        raise _unavailable(request, exc) from exc
    done = {"promoted": "Champion moved.", "rolled_back": "Champion rolled back."}
    return render(
        request,
        "models.html",
        {
            "model_name": config.model_name,
            "versions": versions,
            "metric_names": SHOWN_METRICS,
            "done": done.get(request.query_params.get("done") or ""),
        },
    )


@router.post("/ui/models/{version}/promote", include_in_schema=False)
def promote(
    request: Request,
    version: Annotated[str, Path(pattern=r"^[0-9]{1,9}$")],
    _viewer: session.AdminChange,
) -> Response:
    from mlflow.exceptions import MlflowException

    from models import registry

    try:
        registry.promote(_registry(request), version)
    except MlflowException as exc:
        if as_unavailable(exc, request.app.state.settings) is None:
            raise ConsoleError(404, f"there is no model version {version}") from exc
        raise _unavailable(request, exc) from exc
    return RedirectResponse("/ui/models?done=promoted", status_code=303)


@router.post("/ui/models/rollback", include_in_schema=False)
def rollback(request: Request, _viewer: session.AdminChange) -> Response:
    from models import registry

    try:
        restored = registry.rollback(_registry(request))
    except Exception as exc:
        raise _unavailable(request, exc) from exc
    if restored is None:
        raise ConsoleError(409, "the champion has no earlier version to roll back to")
    return RedirectResponse("/ui/models?done=rolled_back", status_code=303)
