"""``/v1/models``: the registered versions and the ``champion`` alias (admin).

Promotion and rollback here are the same alias moves as ``auditlens models``; a
running scorer notices the move within ``AUDITLENS_MODEL_REFRESH_S`` and swaps
the version in between batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from pydantic import BaseModel, Field

from models.registry_config import RegistryConfig
from service.api.deps import AdminDep
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


@router.post(
    "/{version}/promote",
    response_model=ChampionChange,
    responses=errors(404, 503),
    summary="Make a version the champion",
)
def promote_model(
    version: Annotated[str, Path(pattern=r"^[0-9]{1,9}$", description="A registered version.")],
    request: Request,
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
    return ChampionChange(champion=version, previous=previous)


@router.post(
    "/rollback",
    response_model=ChampionChange,
    responses=errors(409, 503),
    summary="Return the champion to the version before the last promotion",
)
def rollback_model(config: Registry, _caller: AdminDep) -> ChampionChange:
    from models import registry

    current = registry.alias_version(config, "champion")
    restored = registry.rollback(config)
    if restored is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "the champion has no earlier version to roll back to"
        )
    return ChampionChange(champion=restored, previous=current)
