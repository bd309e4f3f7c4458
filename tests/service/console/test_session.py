"""Signing in and out, the cookie's flags, CSRF, roles, expiry and the page headers."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import update

from service.store.repository import Store
from service.store.tables import ConsoleSession, utcnow
from tests.service.conftest import anomaly_row
from tests.service.console.conftest import csrf_of, sign_in


def test_a_page_without_a_session_sends_the_browser_to_sign_in(browser: TestClient) -> None:
    response = browser.get("/ui/anomalies/5")
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/login?next=%2Fui%2Fanomalies%2F5"


def test_signing_in_sets_an_httponly_strict_session_cookie(
    browser: TestClient, store: Store
) -> None:
    key = store.create_api_key("reader")
    form = browser.get("/ui/login")
    token = re.search(r'name="login_token" value="([^"]+)"', form.text)
    assert token
    response = browser.post("/ui/login", data={"key": key, "login_token": token.group(1)})
    assert response.status_code == 303
    cookie = next(
        v for k, v in response.headers.multi_items() if k == "set-cookie" and "session" in v
    )
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/ui" in cookie
    assert key not in cookie  # the browser keeps a session, never the key
    assert browser.get("/ui/").status_code == 200


def test_a_wrong_key_or_a_forged_sign_in_form_is_refused(browser: TestClient, store: Store) -> None:
    form = browser.get("/ui/login")
    token = re.search(r'name="login_token" value="([^"]+)"', form.text)
    assert token
    wrong = browser.post("/ui/login", data={"key": "al_x_y", "login_token": token.group(1)})
    assert wrong.status_code == 401
    assert "not valid" in wrong.text
    browser.cookies.clear()
    forged = browser.post(
        "/ui/login", data={"key": store.create_api_key("admin"), "login_token": "guess"}
    )
    assert forged.status_code == 403
    assert browser.get("/ui/").status_code == 303


def test_a_change_without_the_csrf_token_is_refused_and_changes_nothing(
    browser: TestClient, store: Store
) -> None:
    store.insert_anomalies([anomaly_row("a")])
    sign_in(browser, store, "analyst")
    refused = browser.post("/ui/anomalies/1/triage", data={"status": "acknowledged"})
    assert refused.status_code == 403
    assert "security token" in refused.text
    stale = browser.post(
        "/ui/anomalies/1/triage", data={"status": "acknowledged", "csrf_token": "stale"}
    )
    assert stale.status_code == 403
    anomaly = store.get_anomaly(1)
    assert anomaly is not None
    assert anomaly.status == "new"


def test_a_reader_sees_no_triage_controls_and_the_server_refuses_them(
    browser: TestClient, store: Store
) -> None:
    store.insert_anomalies([anomaly_row("a")])
    sign_in(browser, store, "reader")
    page = browser.get("/ui/anomalies/1")
    assert page.status_code == 200
    assert "triage-form" not in page.text
    assert "suppress-form" not in page.text
    token = csrf_of(page.text)  # the sign-out form's
    for path, data in (
        ("/ui/anomalies/1/triage", {"status": "closed", "verdict": "true_positive"}),
        ("/ui/anomalies/1/suppress", {"field": "actor", "reason": "x"}),
        ("/ui/suppressions", {"actor": "alice", "reason": "x"}),
        ("/ui/keys", {"role": "admin"}),
    ):
        response = browser.post(path, data={**data, "csrf_token": token})
        assert response.status_code == 403, path
    anomaly = store.get_anomaly(1)
    assert anomaly is not None
    assert anomaly.status == "new"
    assert store.list_suppressions() == []
    assert browser.get("/ui/suppressions").status_code == 403
    assert browser.get("/ui/keys").status_code == 403


def test_signing_out_ends_the_session(browser: TestClient, store: Store) -> None:
    sign_in(browser, store)
    old_cookie = browser.cookies.get("auditlens_session")
    token = csrf_of(browser.get("/ui/").text)
    assert browser.post("/ui/logout", data={"csrf_token": token}).status_code == 303
    assert browser.get("/ui/").status_code == 303
    assert old_cookie is not None
    assert store.console_session(old_cookie) is None


def test_an_expired_session_or_a_revoked_key_signs_the_browser_out(
    browser: TestClient, store: Store
) -> None:
    sign_in(browser, store)
    assert browser.get("/ui/").status_code == 200
    with store.sessions.begin() as session:
        session.execute(update(ConsoleSession).values(expires_at=utcnow()))
    assert browser.get("/ui/").status_code == 303

    key = sign_in(browser, store, "reader")
    assert browser.get("/ui/").status_code == 200
    store.revoke_api_key(key.split("_")[1])
    assert browser.get("/ui/").status_code == 303


def test_every_console_response_forbids_inline_script_and_framing(
    browser: TestClient, store: Store
) -> None:
    sign_in(browser, store)
    for path in ("/ui/login", "/ui/", "/ui/static/console.css", "/ui/anomalies/999"):
        policy = browser.get(path).headers["content-security-policy"]
        assert "script-src 'self'" in policy, path
        assert "frame-ancestors 'none'" in policy, path
        assert "unsafe-inline" not in policy
    assert "content-security-policy" not in browser.get("/livez").headers
