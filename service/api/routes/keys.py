"""``/v1/keys``: administrators issue, list and revoke API keys."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from service.api.deps import AdminDep, StoreDep
from service.api.schemas import errors
from service.api.schemas.keys import KeyCreate, KeyCreated, KeyList, KeyPublic
from service.store.tables import ApiKey

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/keys", tags=["keys"])
KeyId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9a-f]+$")]


def _public(key: ApiKey) -> KeyPublic:
    return KeyPublic(
        key_id=key.key_id,
        role=key.role,  # type: ignore[arg-type]
        name=key.name,
        created_at=key.created_at,
        created_by=key.created_by,
        revoked=key.revoked,
        revoked_at=key.revoked_at,
    )


@router.get("", response_model=KeyList, responses=errors(), summary="List keys (no secrets)")
def list_keys(store: StoreDep, _caller: AdminDep) -> KeyList:
    return KeyList(items=[_public(k) for k in store.list_api_keys()])


@router.post(
    "",
    response_model=KeyCreated,
    status_code=status.HTTP_201_CREATED,
    responses=errors(),
    summary="Issue a key; the response is the only place its secret appears",
)
def create_key(body: KeyCreate, store: StoreDep, caller: AdminDep) -> KeyCreated:
    issued = store.issue_api_key(body.role, body.name, caller.key_id)
    log.info("key %s issued a %s key %s", caller.key_id, body.role, issued.record.key_id)
    return KeyCreated(**_public(issued.record).model_dump(), key=issued.key)


@router.delete(
    "/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=errors(404),
    summary="Revoke a key: it stops working at once (the record stays, for the audit trail)",
)
def revoke_key(key_id: KeyId, store: StoreDep, caller: AdminDep) -> None:
    store.revoke_api_key(key_id)
    log.info("key %s revoked key %s", caller.key_id, key_id)
