"""``/v1/keys`` (admin) and the key life cycle."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.cli import main
from service.store.repository import Store
from tests.service.conftest import auth


def test_issue_list_and_revoke(client: TestClient, store: Store) -> None:
    admin = auth(store, "admin")
    created = client.post("/v1/keys", json={"role": "reader", "name": "splunk"}, headers=admin)
    assert created.status_code == 201
    body = created.json()
    key = body["key"]
    assert key.startswith(f"al_{body['key_id']}_")
    assert (body["role"], body["name"], body["revoked"]) == ("reader", "splunk", False)
    assert body["created_by"] == admin["Authorization"].split("_")[1]
    reader = {"Authorization": f"Bearer {key}"}
    assert client.get("/v1/anomalies", headers=reader).status_code == 200
    listed = client.get("/v1/keys", headers=admin).json()["items"]
    assert body["key_id"] in [k["key_id"] for k in listed]
    assert all("key" not in k and "secret_hash" not in k for k in listed)
    revoked = client.delete(f"/v1/keys/{body['key_id']}", headers=admin)
    assert revoked.status_code == 204
    after = client.get("/v1/anomalies", headers=reader)
    assert after.status_code == 401
    assert after.json() == {"detail": "invalid or revoked API key"}
    entry = next(
        k
        for k in client.get("/v1/keys", headers=admin).json()["items"]
        if k["key_id"] == body["key_id"]
    )
    assert entry["revoked"] is True
    assert entry["revoked_at"] is not None


def test_revoking_an_unknown_key_is_404(client: TestClient, store: Store) -> None:
    response = client.delete("/v1/keys/abcdef", headers=auth(store, "admin"))
    assert response.status_code == 404
    assert response.json() == {"detail": "no API key with id abcdef"}


def test_an_unknown_role_is_422(client: TestClient, store: Store) -> None:
    response = client.post("/v1/keys", json={"role": "root"}, headers=auth(store, "admin"))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "role"]


def test_analysts_cannot_manage_keys(client: TestClient, store: Store) -> None:
    response = client.post("/v1/keys", json={"role": "admin"}, headers=auth(store, "analyst"))
    assert response.status_code == 403
    assert response.json() == {"detail": "this action needs the admin role; key has analyst"}


def test_the_cli_creates_lists_and_revokes_keys(
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AUDITLENS_STORE_URL", store.url)
    monkeypatch.setenv("AUDITLENS_DATA_DIR", str(tmp_path))
    assert main(["keys", "create", "--role", "analyst", "--name", "soc"]) == 0
    created = capsys.readouterr().out.strip().splitlines()
    key = created[-1]  # alone on the last line
    principal = store.authenticate(key)
    assert principal is not None
    assert principal.role == "analyst"
    assert main(["keys", "list"]) == 0
    listed = capsys.readouterr().out
    assert f"{principal.key_id}  analyst  active" in listed
    assert listed.rstrip().endswith("soc")
    assert key.split("_", 2)[2] not in listed
    assert main(["keys", "revoke", principal.key_id]) == 0
    assert capsys.readouterr().out == (
        f"revoked analyst key {principal.key_id}; it no longer authenticates\n"
    )
    assert store.authenticate(key) is None
    assert main(["keys", "revoke", "ffff"]) == 1
    assert capsys.readouterr().err == "auditlens: no API key with id ffff\n"
