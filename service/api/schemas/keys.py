"""API keys as administrators manage them (the secret is shown once, at creation)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["reader", "analyst", "admin"]


class KeyCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"role": "reader", "name": "splunk"}]}
    )

    role: Role
    name: str | None = Field(default=None, max_length=128, description="A label for people.")


class KeyPublic(BaseModel):
    key_id: str = Field(description="Public id: the middle part of the key, named in history.")
    role: Role
    name: str | None
    created_at: datetime
    created_by: str | None
    revoked: bool
    revoked_at: datetime | None


class KeyCreated(KeyPublic):
    key: str = Field(description="The key itself. It is shown only in this response.")


class KeyList(BaseModel):
    items: list[KeyPublic]
