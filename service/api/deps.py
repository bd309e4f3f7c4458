"""Shared request dependencies: the store, the settings, the caller and its role.

Every ``/v1`` route declares one of :data:`ReaderDep`, :data:`AnalystDep` or
:data:`AdminDep` (roles are ordered: an admin key may do what an analyst may).
The role check carries its minimum role as ``minimum_role`` so a test can walk
every route and fail on one that has no check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.api.scoring_model import ModelProvider
from service.config import Settings
from service.store.repository import ROLE_RANK, Principal, Store
from service.webhooks.urls import Resolver

_bearer = HTTPBearer(auto_error=False, description="An API key from `auditlens keys create`.")


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_model_provider(request: Request) -> ModelProvider:
    provider: ModelProvider = request.app.state.model_provider
    return provider


def get_resolver(request: Request) -> Resolver:
    resolver: Resolver = request.app.state.resolver
    return resolver


StoreDep = Annotated[Store, Depends(get_store)]
ResolverDep = Annotated[Resolver, Depends(get_resolver)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ModelProviderDep = Annotated[ModelProvider, Depends(get_model_provider)]


def _authenticated(
    store: StoreDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing bearer API key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = store.authenticate(credentials.credentials)
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "invalid or revoked API key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


def require(minimum: str) -> Callable[[Principal], Principal]:
    """A dependency that admits keys with at least the ``minimum`` role."""

    def check(principal: Annotated[Principal, Depends(_authenticated)]) -> Principal:
        if ROLE_RANK[principal.role] < ROLE_RANK[minimum]:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"this action needs the {minimum} role; key has {principal.role}",
            )
        return principal

    check.minimum_role = minimum  # type: ignore[attr-defined]
    return check


ReaderDep = Annotated[Principal, Depends(require("reader"))]
AnalystDep = Annotated[Principal, Depends(require("analyst"))]
AdminDep = Annotated[Principal, Depends(require("admin"))]
