"""Signing in with an API key, and out again."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from service.config import Settings
from service.console import session
from service.console.errors import ConsoleError
from service.console.templating import render
from service.store.repository import Store

router = APIRouter()


def safe_next(target: str | None) -> str:
    """Where to go after signing in: only back into the console, never to another site.

    >>> safe_next("/ui/anomalies/3"), safe_next("//evil.example"), safe_next(None)
    ('/ui/anomalies/3', '/ui/', '/ui/')
    """
    if target and target.startswith("/ui/") and not target.startswith("//"):
        return target
    return "/ui/"


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    """A console cookie: HttpOnly, ``SameSite=Strict``, scoped to ``/ui``, Secure as configured."""
    settings: Settings = request.app.state.settings
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="strict",
        secure=session.secure_cookie(request, settings),
        path=session.COOKIE_PATH,
        max_age=max_age,
    )


def _login_page(request: Request, next_url: str, error: str | None, status: int) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        {"login_token": token, "next_url": safe_next(next_url), "error": error},
        status=status,
    )
    _set_cookie(request, response, session.LOGIN_COOKIE, token, 3600)
    return response


@router.get("/ui", include_in_schema=False)
def console_root() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=307)


@router.get("/ui/login", include_in_schema=False)
def login_form(request: Request, next: str | None = None) -> Response:
    if session.current(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, next or "/ui/", None, 200)


@router.post("/ui/login", include_in_schema=False)
def sign_in(request: Request, form: session.Form) -> Response:
    """The key is checked like a bearer key; the browser keeps only a session cookie."""
    next_url = safe_next(str(form.get("next") or ""))
    sent, expected = str(form.get("login_token") or ""), request.cookies.get(session.LOGIN_COOKIE)
    if not expected or not hmac.compare_digest(sent, expected):
        return _login_page(request, next_url, "The sign-in form expired: try again.", 403)
    store: Store = request.app.state.store
    settings: Settings = request.app.state.settings
    principal = store.authenticate(str(form.get("key") or "").strip())
    if principal is None:
        return _login_page(request, next_url, "That key is not valid or has been revoked.", 401)
    lifetime = timedelta(hours=settings.ui_session_hours)
    token, _ = store.open_console_session(principal.key_id, lifetime)
    response = RedirectResponse(next_url, status_code=303)
    _set_cookie(request, response, session.COOKIE, token, int(lifetime.total_seconds()))
    response.delete_cookie(session.LOGIN_COOKIE, path=session.COOKIE_PATH)
    return response


@router.post("/ui/logout", include_in_schema=False)
def sign_out(request: Request, _viewer: session.ReaderChange) -> Response:
    token = request.cookies.get(session.COOKIE)
    if token is None:  # pragma: no cover - the dependency needs a session
        raise ConsoleError(401, "not signed in")
    request.app.state.store.close_console_session(token)
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(session.COOKIE, path=session.COOKIE_PATH)
    return response
