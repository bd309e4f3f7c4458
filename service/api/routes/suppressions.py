"""``/v1/suppressions``: analysts silence known-benign patterns (stored, but not alerted)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Response, status

from service.api.deps import AnalystDep, StoreDep
from service.api.schemas import errors
from service.api.schemas.suppressions import SuppressionCreate, SuppressionList, SuppressionPublic
from service.store.exceptions import InvalidChangeError
from service.store.suppressions import SuppressionView
from service.store.tables import utcnow

router = APIRouter(prefix="/v1/suppressions", tags=["suppressions"])
SuppressionId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _public(view: SuppressionView) -> SuppressionPublic:
    rule = view.rule
    return SuppressionPublic(
        id=rule.id,
        source=rule.source,
        actor=rule.actor,
        action=rule.action,
        resource=rule.resource,
        namespace=rule.namespace,
        reason=rule.reason,
        expires_at=rule.expires_at,
        created_at=rule.created_at,
        created_by=rule.created_by,
        active=rule.expires_at is None or rule.expires_at > utcnow(),
        suppressed=view.suppressed,
    )


@router.get("", response_model=SuppressionList, responses=errors(), summary="List rules")
def list_suppressions(
    store: StoreDep,
    _caller: AnalystDep,
    include_expired: Annotated[bool, Query(description="Also list expired rules.")] = False,
) -> SuppressionList:
    return SuppressionList(items=[_public(v) for v in store.list_suppressions(include_expired)])


@router.post(
    "",
    response_model=SuppressionPublic,
    status_code=status.HTTP_201_CREATED,
    responses=errors(),
    summary="Create a rule: anomalies matching every given field are stored as suppressed",
)
def create_suppression(
    body: SuppressionCreate, store: StoreDep, caller: AnalystDep
) -> SuppressionPublic:
    """Matching is exact on each given field; all given fields must match. It applies to
    anomalies stored from now on, until `expires_at` if given."""
    values = body.model_dump(include={"source", "actor", "action", "resource", "namespace"})
    try:
        rule = store.create_suppression(values, body.reason, body.expires_at, caller.key_id)
    except InvalidChangeError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    return _public(SuppressionView(rule, 0))


@router.get(
    "/{suppression_id}", response_model=SuppressionPublic, responses=errors(404), summary="One rule"
)
def get_suppression(
    suppression_id: SuppressionId, store: StoreDep, _caller: AnalystDep
) -> SuppressionPublic:
    return _public(store.get_suppression(suppression_id))


@router.delete(
    "/{suppression_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=errors(404),
    summary="Delete a rule (anomalies it suppressed stay suppressed)",
)
def delete_suppression(suppression_id: SuppressionId, store: StoreDep, _caller: AnalystDep) -> None:
    store.delete_suppression(suppression_id)
