"""Tenant and /me."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, model_validator

from api.schemas.common import RequestModel

SettingValue = str | int | bool | None
MAX_SETTINGS = 50


class Tenant(BaseModel):
    id: uuid.UUID
    name: str
    slug: str
    plan: str
    billing_status: str
    access_level: str
    trial_ends_at: datetime | None
    settings: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class TenantUpdate(RequestModel):
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    settings: (
        Annotated[dict[Annotated[str, Field(max_length=64)], SettingValue], Field(max_length=MAX_SETTINGS)]
        | None
    ) = None

    @model_validator(mode="after")
    def _no_nulls(self) -> TenantUpdate:
        if any(getattr(self, name) is None for name in self.model_fields_set):
            raise ValueError("fields cannot be null; omit a field to keep it")
        return self


class MeUser(BaseModel):
    id: uuid.UUID
    email: str | None
    display_name: str | None


class MeTenant(BaseModel):
    id: uuid.UUID
    name: str
    slug: str
    role: str
    status: str


class Me(BaseModel):
    user: MeUser
    tenant_id: uuid.UUID
    session_id: uuid.UUID
    tenants: list[MeTenant]
    role: str
    permissions: list[str]
    plan: str
    billing_status: str
    access_level: str
    flags: dict[str, Any]
    experiments: dict[str, str]
