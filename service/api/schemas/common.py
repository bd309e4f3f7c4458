"""Shapes shared by every resource: the error body and the documented error responses."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    """Every error this API raises on purpose: one sentence saying what is wrong."""

    detail: str = Field(examples=["no anomaly with id 42"])


class ValidationIssue(BaseModel):
    """One field that failed validation (FastAPI's format)."""

    loc: list[str | int]
    msg: str
    type: str


class UnprocessableDetail(BaseModel):
    """A request that does not validate: the list of field issues, or one sentence."""

    detail: str | list[ValidationIssue]


_DESCRIPTIONS = {
    400: (
        "Malformed request: an unparseable body, a cursor this API did not issue",
        "cursor is not one this API issued",
    ),
    401: ("Missing, invalid or revoked API key", "missing bearer API key"),
    403: ("The key's role is too low", "this action needs the analyst role; key has reader"),
    404: ("No such resource", "no anomaly with id 42"),
    409: (
        "Conflicts with the resource's current state",
        "a verdict is set when closing: give status closed with it (the anomaly is new)",
    ),
    413: (
        "Request too large",
        "request body of 2097152 bytes exceeds the limit of 1048576 bytes",
    ),
    422: (
        "The request does not validate",
        "expires_at 2020-01-01T00:00:00+00:00 is not in the future",
    ),
    503: ("Not ready to serve this", "no model to score with"),
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for these status codes (400, 401, 403, 422 always:
    any request can be malformed, unauthenticated, of too low a role, or invalid)."""
    documented: dict[int | str, dict[str, Any]] = {}
    for code in sorted({400, 401, 403, 422, *codes}):
        description, example = _DESCRIPTIONS[code]
        documented[code] = {
            "model": UnprocessableDetail if code == 422 else ErrorDetail,
            "description": description,
            "content": {"application/json": {"example": {"detail": example}}},
        }
    return documented
