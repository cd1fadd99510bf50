from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from api.schemas.common import RequestModel

IdToken = Annotated[str, Field(min_length=1, max_length=8192)]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")]


class SignupRequest(RequestModel):
    id_token: IdToken
    tenant_name: Annotated[str, Field(min_length=1, max_length=200)]
    tenant_slug: Slug


class SessionCreate(RequestModel):
    id_token: IdToken
    tenant: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=63,
            description="tenant slug or id; may be omitted for a token that comes through a tenant's SSO",
        ),
    ] = None


class RefreshRequest(RequestModel):
    refresh_token: Annotated[str | None, Field(default=None, min_length=1, max_length=200)] = None


class SessionTokens(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int
    refresh_token: str
    session_id: uuid.UUID
    tenant_id: uuid.UUID
    user_id: uuid.UUID
    role: str
    plan: str
