"""Request and response models of /api/v1/scim-tokens and /api/v1/scim-groups (the SCIM protocol itself,
under /scim/v2, speaks RFC 7643 JSON documents, not these models)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from api.schemas.common import RequestModel


class ScimTokenCreate(RequestModel):
    name: Annotated[str, Field(min_length=1, max_length=100)] = "SCIM"


class ScimToken(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str = Field(description="`scim_<public id>`, safe to log")
    created_by: uuid.UUID
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    replaced_by: uuid.UUID | None


class ScimTokenCreated(ScimToken):
    token: str = Field(description="shown once: the bearer token for the IdP's SCIM client")
    base_url: str = Field(description="the SCIM base URL to give the IdP, relative to the API's address")


class ScimTokenList(BaseModel):
    items: list[ScimToken]


class ScimGroupRole(BaseModel):
    id: uuid.UUID
    display_name: str
    external_id: str | None
    role: str | None
    member_count: int


class ScimGroupRoleList(BaseModel):
    items: list[ScimGroupRole]


class ScimGroupRoleUpdate(RequestModel):
    role: Annotated[str | None, Field(description="a role key; null maps the group to nothing")]
