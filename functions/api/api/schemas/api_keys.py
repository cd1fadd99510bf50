"""Request and response models of /api/v1/api-keys and POST /api/v1/sessions/token."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from api.schemas.common import RequestModel

MAX_KEY_DAYS = 365
Permission = Annotated[str, Field(pattern=r"^[a-z_]{1,40}:[a-z_]{1,40}$")]


class ApiKeyCreate(RequestModel):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    scopes: Annotated[list[Permission], Field(min_length=1, max_length=100)]
    expires_in_days: Annotated[int, Field(ge=1, le=MAX_KEY_DAYS)] = 90


class ApiKey(BaseModel):
    id: uuid.UUID
    client_id: str = Field(description="the key's public part, `sk_<public id>`; safe to log")
    name: str
    scopes: list[str]
    created_by: uuid.UUID
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None = Field(description="the last token exchange")
    revoked_at: datetime | None


class ApiKeyCreated(ApiKey):
    key: str = Field(description="shown once: `<client_id>_<client_secret>`")
    client_secret: str = Field(description="shown once")


class TokenRequest(RequestModel):
    """RFC 6749 §4.4.2 (client credentials) with the client authenticating in the body (§2.3.1)."""

    grant_type: str
    client_id: Annotated[str | None, Field(max_length=64)] = None
    client_secret: Annotated[str | None, Field(max_length=256)] = None
    scope: Annotated[str | None, Field(max_length=4096)] = None


class AccessTokenResponse(BaseModel):
    """RFC 6749 §5.1."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int
    scope: str


# The body is read by ``api.deps.client_credentials`` (form or JSON), so OpenAPI is told its shape here.
TOKEN_REQUEST_OPENAPI = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {"schema": TokenRequest.model_json_schema()},
            "application/json": {"schema": TokenRequest.model_json_schema()},
        },
    }
}
