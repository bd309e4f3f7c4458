"""``/v1/models``: the registered versions and the ``champion`` alias (admin).

Promotion and rollback here are the same alias moves as ``auditlens models``; a
running scorer notices the move within ``AUDITLENS_MODEL_REFRESH_S`` and swaps
the version in between batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from pydantic import BaseModel, Field

from models.registry_config import RegistryConfig
from service.api.deps import AdminDep, StoreDep
from service.api.schemas.common import errors
from service.config import Settings
from service.dependencies import as_unavailable

router = APIRouter(prefix="/v1/models", tags=["models"])


class ModelVersion(BaseModel):
    version: str
    aliases: list[str] = Field(description="Aliases on this version, e.g. `champion`.")
    run_id: str | None = Field(description="The MLflow run that produced it.")
    created: int | None = Field(description="Registration time, ms since the epoch.")
    tags: dict[str, str] = Field(
        default_factory=dict,
        description="The version's tags: `gate.passed` and `gate.reason` record the "
        "promotion gate's decision when training was asked to promote.",
    )


class ModelList(BaseModel):
    name: str
    items: list[ModelVersion]


class ChampionChange(BaseModel):
    champion: str
    previous: str | None = Field(description="The version that was champion before.")


def _registry(request: Request) -> Iterator[RegistryConfig]:
    """The registry's address; a registry that does not answer is a 503, not a 500.

    The tracking server is a dependency like the store: while it is away, clients
    are told to retry (with ``Retry-After``) and the message says which setting
    points at it. Any other error is left alone.
    """
    settings: Settings = request.app.state.settings
    try:
        yield RegistryConfig(
            tracking_uri=settings.mlflow_tracking_uri,
            artifact_root=settings.mlflow_artifact_root,
            model_name=settings.model_name,
        )
    except Exception as exc:
        unavailable = as_unavailable(exc, settings)
        if unavailable is None or unavailable.dependency != "mlflow":
            raise
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, str(unavailable), headers={"Retry-After": "5"}
        ) from exc


Registry = Annotated[RegistryConfig, Depends(_registry)]


@router.get("", response_model=ModelList, responses=errors(503), summary="Registered versions")
def list_models(config: Registry, _caller: AdminDep) -> ModelList:
    from models import registry

    versions = registry.list_versions(config)
    return ModelList(
        name=config.model_name,
        items=[ModelVersion(**v) for v in versions],
    )


class FeatureDriftOut(BaseModel):
    feature: str
    psi: float = Field(description="Population stability index against the training bins.")
    observed: list[float] = Field(description="Live share of events per bin.")
    expected: list[float] = Field(description="Training share of events per bin.")
    edges: list[float] = Field(description="Bin edges: bin i holds edges[i-1] <= x < edges[i].")
    drifted: bool = Field(description="PSI above AUDITLENS_DRIFT_PSI_MAX.")


class TailUniformityOut(BaseModel):
    statistic: float = Field(description="Chi-square statistic against the uniform distribution.")
    p_value: float = Field(description="Small: the calibrated scores no longer look like training.")
    observed: list[float] = Field(description="Live share per tenth of tail probability.")
    expected: list[float] = Field(description="The calibration sample's share per tenth.")
    psi: float


class DriftWindow(BaseModel):
    window: str
    events: int
    alerts: int
    alert_rate: float | None
    target_alert_rate: float
    max_psi: float
    tail: TailUniformityOut
    features: list[FeatureDriftOut] = Field(description="The largest PSI first.")


class DriftOut(BaseModel):
    name: str
    version: str | None = Field(description="The version measured; None: nothing scored yet.")
    psi_max: float = Field(description="AUDITLENS_DRIFT_PSI_MAX: the PSI that counts as drift.")
    windows: list[DriftWindow]


@router.get(
    "/drift",
    response_model=DriftOut,
    responses=errors(404, 422),
    summary="Live drift against the training distribution, per feature and window",
)
def model_drift(
    request: Request,
    store: StoreDep,
    _caller: AdminDep,
    version: Annotated[
        str | None,
        Query(pattern=r"^[0-9]{1,9}$", description="Default: the version scored most recently."),
    ] = None,
    window: Annotated[
        list[str] | None, Query(description="Windows such as 15m, 1h, 24h (default 1h and 24h).")
    ] = None,
) -> DriftOut:
    from service.drift import WINDOWS, parse_window, stored_reports

    settings: Settings = request.app.state.settings
    try:
        windows = {w: parse_window(w) for w in window} if window else dict(WINDOWS)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    chosen = version or store.latest_drift_version(settings.model_name)
    out = DriftOut(
        name=settings.model_name, version=chosen, psi_max=settings.drift_psi_max, windows=[]
    )
    if chosen is None:
        return out
    reports = stored_reports(store, settings.model_name, chosen, windows)
    if reports is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"no drift recorded for {settings.model_name} version {chosen}: no scorer has "
            "scored with it, or it was trained before drift was measured",
        )
    for name, report in reports.items():
        out.windows.append(
            DriftWindow(
                window=name,
                events=report.events,
                alerts=report.alerts,
                alert_rate=report.alert_rate,
                target_alert_rate=report.target_alert_rate,
                max_psi=report.max_psi,
                tail=TailUniformityOut(
                    statistic=report.tail.statistic,
                    p_value=report.tail.p_value,
                    observed=list(report.tail_observed),
                    expected=list(report.tail_expected),
                    psi=report.score_psi,
                ),
                features=[
                    FeatureDriftOut(
                        feature=f.feature,
                        psi=f.psi,
                        observed=list(f.observed),
                        expected=list(f.expected),
                        edges=list(f.edges),
                        drifted=f.psi > settings.drift_psi_max,
                    )
                    for f in report.features
                ],
            )
        )
    return out


@router.post(
    "/{version}/promote",
    response_model=ChampionChange,
    responses=errors(404, 503),
    summary="Make a version the champion",
)
def promote_model(
    version: Annotated[str, Path(pattern=r"^[0-9]{1,9}$", description="A registered version.")],
    request: Request,
    store: StoreDep,
    config: Registry,
    _caller: AdminDep,
) -> ChampionChange:
    from mlflow.exceptions import MlflowException

    from models import registry

    try:
        previous = registry.promote(config, version)
    except MlflowException as exc:
        if as_unavailable(exc, request.app.state.settings) is not None:
            raise  # the registry is away, not the version: a 503 from the dependency
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no model version {version!r}") from exc
    store.record_decision(
        config.model_name, version, "promoted", f"by hand (was {previous})", {}, "api"
    )
    return ChampionChange(champion=version, previous=previous)


@router.post(
    "/rollback",
    response_model=ChampionChange,
    responses=errors(409, 503),
    summary="Return the champion to the version before the last promotion",
)
def rollback_model(config: Registry, store: StoreDep, _caller: AdminDep) -> ChampionChange:
    from models import registry

    current = registry.alias_version(config, "champion")
    restored = registry.rollback(config)
    if restored is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "the champion has no earlier version to roll back to"
        )
    if current is not None:
        store.record_decision(
            config.model_name, current, "rolled_back", f"by hand, to {restored}", {}, "api"
        )
    return ChampionChange(champion=restored, previous=current)


@router.get(
    "/{version}/shadow",
    responses=errors(404, 503),
    summary="A challenger against the champion on the same live window (shadow scoring)",
)
def shadow_comparison(
    version: Annotated[str, Path(pattern=r"^[0-9]{1,9}$", description="The challenger.")],
    request: Request,
    store: StoreDep,
    config: Registry,
    _caller: AdminDep,
) -> dict[str, Any]:
    """Alert rate against target, overlap of flagged events, precision on verdicts and
    drift of both versions since the challenger was registered, and what the gate would
    decide on it now."""
    from datetime import UTC, datetime

    from mlflow.exceptions import MlflowException

    from models import registry
    from service.optimizer.evidence import shadow_evidence
    from service.optimizer.gate import GateCriteria, evaluate

    settings: Settings = request.app.state.settings
    champion = registry.alias_version(config, "champion")
    if champion is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no champion to compare with")
    try:
        created = registry.version_info(config, version)["created"]
    except MlflowException as exc:
        if as_unavailable(exc, settings) is not None:
            raise
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no model version {version!r}") from exc
    now = datetime.now(UTC)
    evidence = shadow_evidence(
        store,
        settings.model_name,
        champion,
        version,
        datetime.fromtimestamp(created / 1000, UTC),
        now,
        settings.drift_psi_max,
    )
    gate = evaluate(evidence, GateCriteria.from_settings(settings), now)
    decisions = [
        {"kind": d.kind, "reason": d.reason, "decided_at": d.decided_at.isoformat()}
        for d in store.decisions(settings.model_name, version)
    ]
    return {**evidence.to_dict(), "gate": gate.to_dict(), "decisions": decisions}
