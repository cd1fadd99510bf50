"""Request and response models of /api/v1/sso (connections)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from api.schemas.common import RequestModel

# Cognito's MetadataFile limit.
MAX_METADATA_XML_CHARS = 131_072
DEFAULT_SAML_EMAIL_ATTRIBUTE = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"

DisplayName = Annotated[str, Field(min_length=1, max_length=100)]
HttpsUrl = Annotated[str, Field(min_length=9, max_length=2048, pattern=r"^https?://[^\s]+$")]
AttributeName = Annotated[str, Field(min_length=1, max_length=512, pattern=r"^[^\s]+$")]
ClientId = Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[\x21-\x7e]+$")]
ClientSecret = Annotated[SecretStr, Field(min_length=1, max_length=1024)]
Scopes = Annotated[str, Field(min_length=6, max_length=512, pattern=r"^[\x21-\x7e]+( [\x21-\x7e]+)*$")]


def _scopes_have_openid(value: str | None) -> str | None:
    if value is not None and "openid" not in value.split(" "):
        raise ValueError("scopes must include openid")
    return value


class SamlConnectionCreate(RequestModel):
    protocol: Literal["saml"]
    display_name: DisplayName
    metadata_url: HttpsUrl | None = None
    metadata_xml: Annotated[str, Field(min_length=1, max_length=MAX_METADATA_XML_CHARS)] | None = None
    email_attribute: AttributeName = DEFAULT_SAML_EMAIL_ATTRIBUTE
    groups_attribute: AttributeName | None = None

    @model_validator(mode="after")
    def _one_metadata_source(self) -> SamlConnectionCreate:
        if (self.metadata_url is None) == (self.metadata_xml is None):
            raise ValueError("give exactly one of metadata_url and metadata_xml")
        return self


class OidcConnectionCreate(RequestModel):
    protocol: Literal["oidc"]
    display_name: DisplayName
    issuer: HttpsUrl
    client_id: ClientId
    client_secret: ClientSecret
    scopes: Scopes = "openid email profile"
    email_attribute: AttributeName = "email"
    groups_attribute: AttributeName | None = None

    _openid = field_validator("scopes")(_scopes_have_openid)


SsoConnectionCreate = Annotated[SamlConnectionCreate | OidcConnectionCreate, Field(discriminator="protocol")]


class SsoConnectionUpdate(RequestModel):
    """Fields to change; the protocol and an OIDC issuer are fixed (register a new connection instead)."""

    display_name: DisplayName | None = None
    metadata_url: HttpsUrl | None = None
    metadata_xml: Annotated[str, Field(min_length=1, max_length=MAX_METADATA_XML_CHARS)] | None = None
    client_id: ClientId | None = None
    client_secret: ClientSecret | None = None
    scopes: Scopes | None = None
    email_attribute: AttributeName | None = None
    groups_attribute: AttributeName | None = None

    _openid = field_validator("scopes")(_scopes_have_openid)

    @model_validator(mode="after")
    def _sensible(self) -> SsoConnectionUpdate:
        nullable = {"groups_attribute"}
        if any(getattr(self, name) is None for name in self.model_fields_set - nullable):
            raise ValueError("fields cannot be null; omit a field to keep it")
        if self.metadata_url is not None and self.metadata_xml is not None:
            raise ValueError("give at most one of metadata_url and metadata_xml")
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        return self


class SsoConnection(BaseModel):
    id: uuid.UUID
    protocol: Literal["saml", "oidc"]
    provider_name: str = Field(description="The Cognito identity provider (identity_provider= at sign-in)")
    display_name: str
    saml_metadata_url: str | None
    saml_entity_id: str | None
    oidc_issuer: str | None
    oidc_client_id: str | None
    oidc_scopes: str | None
    email_attribute: str
    groups_attribute: str | None
    created_at: datetime
    updated_at: datetime


# Verified domains.

DomainName = Annotated[str, Field(min_length=3, max_length=253)]
VERIFICATION_RECORD_PREFIX = "_saas-verification"
VERIFICATION_VALUE_PREFIX = "saas-verification="


class SsoDomainCreate(RequestModel):
    domain: DomainName
    connection_id: uuid.UUID | None = None


class SsoDomainUpdate(RequestModel):
    connection_id: uuid.UUID | None = None
    enforce_sso: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> SsoDomainUpdate:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        if "enforce_sso" in self.model_fields_set and self.enforce_sso is None:
            raise ValueError("enforce_sso cannot be null")
        return self


class DnsChallenge(BaseModel):
    """The TXT record that proves control of the domain."""

    record_name: str
    record_type: Literal["TXT"] = "TXT"
    record_value: str


class SsoDomain(BaseModel):
    id: uuid.UUID
    domain: str
    verified: bool
    verified_at: datetime | None
    connection_id: uuid.UUID | None
    enforce_sso: bool
    challenge: DnsChallenge
    created_at: datetime
    updated_at: datetime


# Home-realm discovery (POST /api/v1/sessions/discover, public).


class DiscoveryRequest(RequestModel):
    email: Annotated[str, Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")]


class DiscoveryAnswer(BaseModel):
    """The same shape for every address: ``password`` unless a verified domain routes it to SSO."""

    method: Literal["sso", "password"]
    authorize_url: str | None = Field(
        description="The hosted-UI authorize URL with the provider preselected (method sso)"
    )
    sso_required: bool = Field(description="Password sign-in is refused for this address")


# Group → role mapping of a connection.

RoleKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{1,39}$")]
GroupName = Annotated[str, Field(min_length=1, max_length=256)]
MAX_ROLE_MAPPINGS = 100


class RoleMappingEntry(RequestModel):
    group: GroupName = Field(description="The group as the IdP sends it (name or object id), matched exactly")
    role: RoleKey


class RoleMapping(RequestModel):
    """The whole mapping of a connection (PUT replaces it)."""

    default_role: RoleKey | None = Field(
        description="The role when no group maps; null: sign-ins whose groups map to nothing are refused"
    )
    mappings: Annotated[list[RoleMappingEntry], Field(max_length=MAX_ROLE_MAPPINGS)]

    @model_validator(mode="after")
    def _groups_once(self) -> RoleMapping:
        groups = [entry.group for entry in self.mappings]
        if len(set(groups)) != len(groups):
            raise ValueError("each group may be mapped once")
        return self
