"""The console's Jinja2 environment: autoescaped templates inside the package.

Every value reaches the page through autoescaping, so an event whose actor or
user agent holds markup shows it as text. Templates never mark anything safe.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from service.store.keys import ROLE_RANK

HERE = Path(__file__).parent
_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def when(value: datetime | None) -> str:
    """>>> when(datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC))
    '2026-03-04 05:06:07 UTC'
    """
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def from_millis(value: int | None) -> datetime | None:
    """MLflow's milliseconds since the epoch as a time."""
    return None if value is None else datetime.fromtimestamp(value / 1000, UTC)


def pretty_json(text: str) -> str:
    """The raw event indented for reading; text that is not JSON is shown as it is."""
    try:
        return json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False)
    except ValueError:
        return text


def short_value(value: Any) -> str:
    """An explanation value as an analyst reads it: numbers rounded, text as it is.

    >>> short_value(3.14159), short_value(12000.0), short_value("create")
    ('3.14', '12000', 'create')
    """
    if isinstance(value, bool) or value is None:
        return str(value).lower() if value is not None else "—"
    if isinstance(value, float):
        return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return str(value)


_environment.filters.update(
    when=when, from_millis=from_millis, pretty_json=pretty_json, short_value=short_value
)
templates = Jinja2Templates(env=_environment)


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
) -> Response:
    """A page, with who is signed in and what their role may do."""
    viewer = getattr(request.state, "viewer", None)
    rank = ROLE_RANK[viewer.role] if viewer is not None else -1
    page = {
        "viewer": viewer,
        "csrf_token": viewer.csrf_token if viewer is not None else "",
        "can_triage": rank >= ROLE_RANK["analyst"],
        "is_admin": rank >= ROLE_RANK["admin"],
        **(context or {}),
    }
    return templates.TemplateResponse(request, name, page, status_code=status)
