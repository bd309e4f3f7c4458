"""Every route checks the key and the role: a new route without a check fails here."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from service.api.app import ROUTERS, create_app
from service.config import Settings
from service.store.repository import ROLES, Store
from tests.service.conftest import auth

PUBLIC = {("GET", "/livez"), ("GET", "/readyz"), ("GET", "/metrics")}
PATH_VALUES = {"key_id": "abc123"}


def minimum_role(dependant: Dependant) -> str | None:
    """The role a route's dependency tree requires (see service.api.deps.require)."""
    for dependency in dependant.dependencies:
        role = getattr(dependency.call, "minimum_role", None) or minimum_role(dependency)
        if role:
            return str(role)
    return None


def api_routes() -> Iterator[tuple[str, str, str | None]]:
    for module in ROUTERS:
        for route in module.router.routes:
            assert isinstance(route, APIRoute)
            for method in sorted(route.methods):
                yield method, route.path, minimum_role(route.dependant)


ROUTES = sorted(api_routes())


def url_for(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES.get(m.group(1), "1"), path)


def test_every_non_public_route_declares_a_role() -> None:
    unguarded = [(m, p) for m, p, role in ROUTES if role is None and (m, p) not in PUBLIC]
    assert unguarded == []
    assert {(m, p) for m, p, role in ROUTES if role is None} == PUBLIC


def test_the_walk_sees_every_route_the_app_serves() -> None:
    """Routes come from the routers in ROUTERS; the app's OpenAPI must list no other."""
    spec = create_app(Store("sqlite://"), settings=Settings()).openapi()
    served = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    assert served == {(m, p) for m, p, _ in ROUTES}


GUARDED = [(m, p, r) for m, p, r in ROUTES if r is not None]


@pytest.mark.parametrize(
    ("method", "path", "role"), GUARDED, ids=[f"{m} {p}" for m, p, _ in GUARDED]
)
def test_route_refuses_missing_invalid_revoked_and_lower_keys(
    client: TestClient, store: Store, method: str, path: str, role: str
) -> None:
    url = url_for(path)
    body = {} if method in ("POST", "PATCH", "PUT") else None
    missing = client.request(method, url, json=body)
    assert missing.status_code == 401
    assert missing.json() == {"detail": "missing bearer API key"}
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    forged = client.request(method, url, json=body, headers={"Authorization": "Bearer al_x_y"})
    assert forged.status_code == 401
    assert forged.json() == {"detail": "invalid or revoked API key"}
    revoked_key = store.issue_api_key("admin")
    store.revoke_api_key(revoked_key.record.key_id)
    revoked = client.request(
        method, url, json=body, headers={"Authorization": f"Bearer {revoked_key.key}"}
    )
    assert revoked.status_code == 401
    for lower in ROLES[: ROLES.index(role)]:
        refused = client.request(method, url, json=body, headers=auth(store, lower))
        assert refused.status_code == 403
        assert refused.json() == {"detail": f"this action needs the {role} role; key has {lower}"}
    allowed = client.request(method, url, json=body, headers=auth(store, role))
    assert allowed.status_code not in (401, 403)


def test_the_roles_are_the_documented_ones() -> None:
    roles = {(m, p): r for m, p, r in ROUTES}
    assert roles == {
        ("GET", "/livez"): None,
        ("GET", "/readyz"): None,
        ("GET", "/metrics"): None,
        ("GET", "/v1/anomalies"): "reader",
        ("GET", "/v1/anomalies/{anomaly_id}"): "reader",
        ("GET", "/v1/anomalies/{anomaly_id}/history"): "reader",
        ("PATCH", "/v1/anomalies/{anomaly_id}"): "analyst",
        ("POST", "/v1/score"): "analyst",
        ("GET", "/v1/suppressions"): "analyst",
        ("POST", "/v1/suppressions"): "analyst",
        ("GET", "/v1/suppressions/{suppression_id}"): "analyst",
        ("DELETE", "/v1/suppressions/{suppression_id}"): "analyst",
        ("GET", "/v1/webhooks"): "admin",
        ("POST", "/v1/webhooks"): "admin",
        ("GET", "/v1/webhooks/{webhook_id}"): "admin",
        ("PATCH", "/v1/webhooks/{webhook_id}"): "admin",
        ("DELETE", "/v1/webhooks/{webhook_id}"): "admin",
        ("GET", "/v1/webhooks/{webhook_id}/deliveries"): "admin",
        ("GET", "/v1/keys"): "admin",
        ("POST", "/v1/keys"): "admin",
        ("DELETE", "/v1/keys/{key_id}"): "admin",
        ("GET", "/v1/models/drift"): "admin",
        ("GET", "/v1/models"): "admin",
        ("GET", "/v1/models/{version}/shadow"): "admin",
        ("GET", "/v1/report"): "admin",
        ("POST", "/v1/models/{version}/promote"): "admin",
        ("POST", "/v1/models/rollback"): "admin",
    }
