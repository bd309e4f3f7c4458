"""Who is at the console: the session cookie, the CSRF check and the role check.

A browser signs in with an API key once; from then on it carries only an opaque
session token in an HttpOnly, ``SameSite=Strict`` cookie scoped to ``/ui``. A
page that changes anything is a POST whose form carries the session's CSRF
token; the server compares it before looking at anything else, then checks the
role exactly as the API does (the pages hide controls a role may not use, and
the server refuses them anyway).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData

from service.api.deps import get_store
from service.config import Settings
from service.console.errors import ConsoleError, SignInRequiredError
from service.store.console_sessions import SignedIn
from service.store.keys import ROLE_RANK

COOKIE = "auditlens_session"
LOGIN_COOKIE = "auditlens_login"  # double-submit token of the sign-in form
COOKIE_PATH = "/ui"


def secure_cookie(request: Request, settings: Settings) -> bool:
    """Whether cookies get ``Secure``: over HTTPS always, and as the setting says."""
    if settings.ui_secure_cookie == "always":
        return True
    if settings.ui_secure_cookie == "never":
        return False
    return request.url.scheme == "https"


def current(request: Request) -> SignedIn | None:
    """The live session of this request's cookie, or None."""
    token = request.cookies.get(COOKIE)
    return get_store(request).console_session(token) if token else None


def _signed_in(request: Request) -> SignedIn:
    viewer = current(request)
    if viewer is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequiredError(target if request.method == "GET" else "/ui/")
    request.state.viewer = viewer
    return viewer


def _refuse_role(viewer: SignedIn, minimum: str) -> None:
    if ROLE_RANK[viewer.role] < ROLE_RANK[minimum]:
        raise ConsoleError(
            403, f"this needs the {minimum} role; you are signed in as {viewer.role}"
        )


def page(minimum: str = "reader") -> Callable[[Request], SignedIn]:
    """A page (GET) a signed-in browser with at least ``minimum`` may see."""

    def check(request: Request) -> SignedIn:
        viewer = _signed_in(request)
        _refuse_role(viewer, minimum)
        return viewer

    return check


async def form_data(request: Request) -> FormData:
    """The request's form, parsed once (later dependencies and the route reuse it)."""
    return await request.form()


def change(minimum: str) -> Callable[[Request, FormData], SignedIn]:
    """A state change (POST): signed in, a matching CSRF token, at least ``minimum``."""

    def check(request: Request, form: Annotated[FormData, Depends(form_data)]) -> SignedIn:
        viewer = _signed_in(request)
        sent = form.get("csrf_token")
        if not isinstance(sent, str) or not hmac.compare_digest(sent, viewer.csrf_token):
            raise ConsoleError(
                403, "the form's security token is missing or stale: reload the page"
            )
        _refuse_role(viewer, minimum)
        return viewer

    return check


Form = Annotated[FormData, Depends(form_data)]
Reader = Annotated[SignedIn, Depends(page("reader"))]
Analyst = Annotated[SignedIn, Depends(page("analyst"))]
Admin = Annotated[SignedIn, Depends(page("admin"))]
ReaderChange = Annotated[SignedIn, Depends(change("reader"))]
AnalystChange = Annotated[SignedIn, Depends(change("analyst"))]
AdminChange = Annotated[SignedIn, Depends(change("admin"))]
