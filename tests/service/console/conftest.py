"""Console fixtures: a browser-like client (cookies kept, redirects not followed)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.store.repository import Store
from tests.service.conftest import make_client


@pytest.fixture
def browser(store: Store, settings: Settings) -> Iterator[TestClient]:
    with make_client(store, settings) as client:
        client.follow_redirects = False
        yield client


def csrf_of(page: str) -> str:
    """The CSRF token a page's forms carry."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def sign_in(client: TestClient, store: Store, role: str = "analyst") -> str:
    """Sign ``client`` in with a new key of ``role``; returns the key."""
    key = store.create_api_key(role)
    form = client.get("/ui/login")
    token = re.search(r'name="login_token" value="([^"]+)"', form.text)
    assert token
    response = client.post("/ui/login", data={"key": key, "login_token": token.group(1)})
    assert response.status_code == 303, response.text
    return key
