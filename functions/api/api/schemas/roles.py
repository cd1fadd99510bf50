"""Request and response models of /api/v1/roles and /api/v1/permissions."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from api.schemas.common import RequestModel

PermissionId = Annotated[str, Field(pattern=r"^[a-z_]+:[a-z_]+$", max_length=80)]
RoleKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{1,39}$")]


class Role(BaseModel):
    id: uuid.UUID
    key: str
    name: str
    is_system: bool
    permissions: list[str]


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
