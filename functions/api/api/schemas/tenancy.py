"""Tenant, members, roles, permissions, audit log and /me."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, model_validator

from api.schemas.common import RequestModel

RoleKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{1,39}$")]
Email = Annotated[str, Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
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


class Member(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID | None
    email: str | None
    display_name: str | None
    role: str
    status: str
    invited_email: str | None
    created_at: datetime


class MemberInvite(RequestModel):
    email: Email
    role: RoleKey = "member"


class MemberUpdate(RequestModel):
    role: RoleKey


class Role(BaseModel):
    id: uuid.UUID
    key: str
    name: str
    is_system: bool
    permissions: list[str]


PermissionId = Annotated[str, Field(pattern=r"^[a-z_]+:[a-z_]+$", max_length=80)]


class RoleCreate(RequestModel):
    key: RoleKey
    name: Annotated[str, Field(min_length=1, max_length=100)]
    permissions: Annotated[list[PermissionId], Field(max_length=100)]


class RoleUpdate(RequestModel):
    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    permissions: Annotated[list[PermissionId], Field(max_length=100)] | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> RoleUpdate:
        if any(getattr(self, name) is None for name in self.model_fields_set):
            raise ValueError("fields cannot be null; omit a field to keep it")
        return self


class Permission(BaseModel):
    id: str
    resource: str
    action: str
    description: str


class AuditEntry(BaseModel):
    id: uuid.UUID
    actor_type: str
    actor_user_id: uuid.UUID | None
    action: str
    resource_type: str
    resource_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None
    ip: str | None
    user_agent: str | None
    created_at: datetime


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
