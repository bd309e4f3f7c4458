"""Mounting the console on the API: its routes, its assets and its security headers.

Every ``/ui`` response carries a Content-Security-Policy that allows script, style
and images from the service itself only (no inline script, no CDN) and no
framing, so neither an injected ``<script>`` nor a hostile frame can act for an
analyst.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.console.errors import ConsoleError, SignInRequiredError
from service.console.routes import admin, anomaly, auth, feed, suppressions
from service.console.templating import HERE, render

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


class ConsoleHeaders:
    """Adds the security headers (and ``no-store`` on pages) to every ``/ui`` response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path == "/ui" or path.startswith("/ui/")):
            await self.app(scope, receive, send)
            return
        is_asset = path.startswith("/ui/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(SECURITY_HEADERS)
                if not is_asset:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ConsoleError)
    return render(request, "error.html", {"message": exc.message, "status": exc.status}, exc.status)


async def _sign_in(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequiredError)
    return RedirectResponse("/ui/login?" + urlencode({"next": exc.next_url}), status_code=303)


def is_console(request: Request) -> bool:
    return request.url.path.startswith("/ui/")


async def render_not_found(request: Request, message: str) -> Response:
    return render(request, "error.html", {"message": message, "status": 404}, 404)


def install(app: FastAPI) -> None:
    """Serve the console under ``/ui`` on ``app``."""
    for module in (auth, feed, anomaly, suppressions, admin):
        app.include_router(module.router)
    app.mount("/ui/static", StaticFiles(directory=HERE / "static"), name="console-static")
    app.add_exception_handler(ConsoleError, _refused)
    app.add_exception_handler(SignInRequiredError, _sign_in)
    app.add_middleware(ConsoleHeaders)
