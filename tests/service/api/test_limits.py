"""Request bodies over ``AUDITLENS_API_MAX_BODY_BYTES`` are refused with 413 before any handler."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi.testclient import TestClient

from service.store.repository import Store
from tests.service.conftest import auth

LIMIT = 1_048_576  # the default


def test_a_declared_oversize_body_is_refused_at_once(client: TestClient, store: Store) -> None:
    body = b"[" + b" " * LIMIT + b"]"
    response = client.post(
        "/v1/score",
        content=body,
        headers={**auth(store, "analyst"), "content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json() == {
        "detail": f"request body of {len(body)} bytes exceeds the limit of {LIMIT} bytes"
    }


def test_a_streamed_oversize_body_is_cut_off(client: TestClient, store: Store) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"["
        for _ in range(20):
            yield b" " * 65536
        yield b"]"

    response = client.post(
        "/v1/suppressions",
        content=chunks(),
        headers={**auth(store, "analyst"), "content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json() == {"detail": f"request body exceeds the limit of {LIMIT} bytes"}


def test_the_limit_applies_before_authentication(client: TestClient) -> None:
    response = client.post("/v1/keys", content=b"x" * (LIMIT + 1))
    assert response.status_code == 413


def test_a_body_within_the_limit_passes(client: TestClient, store: Store) -> None:
    response = client.post(
        "/v1/suppressions",
        json={"actor": "a" * 500, "reason": "r" * 1900},
        headers=auth(store, "analyst"),
    )
    assert response.status_code == 201
