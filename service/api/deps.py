"""Shared request dependencies: the store, the caller's role."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.store.repository import ROLE_RANK, Store

_bearer = HTTPBearer(auto_error=False, description="An API key from `auditlens keys create`.")


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


StoreDep = Annotated[Store, Depends(get_store)]


def _authenticated_role(
    store: StoreDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing bearer API key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    role = store.authenticate(credentials.credentials)
    if role is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "invalid or revoked API key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return role


def require(minimum: str) -> Any:
    """Dependency: the caller's key has at least the ``minimum`` role."""

    def check(role: Annotated[str, Depends(_authenticated_role)]) -> str:
        if ROLE_RANK[role] < ROLE_RANK[minimum]:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"this action needs the {minimum} role; key has {role}"
            )
        return role

    return Depends(check)
