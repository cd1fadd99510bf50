"""Typed settings of the origin API, read once per container through ``get_settings()``."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import NoDecode

from saascore.exceptions import ConfigurationError
from saascore.settings import BaseServiceSettings

SESSION_AUDIENCE = "saas-api"


class ApiSettings(BaseServiceSettings):
    """Environment of the API function; names are the env vars the infra and local stack set."""

    # Session tokens (issued here, verified here and at the edge).
    session_issuer: str = Field(default="https://api.saas.local", validation_alias="SESSION_ISSUER")
    session_audience: str = Field(default=SESSION_AUDIENCE, validation_alias="SESSION_AUDIENCE")
    session_key_source: Literal["kms", "pem"] = Field(default="pem", validation_alias="SESSION_KEY_SOURCE")
    session_kms_key_id: str | None = Field(default=None, validation_alias="SESSION_KMS_KEY_ID")
    # A PEM (PKCS#8 or PKCS#1) RSA private key, or a secretsmanager:/ssm: reference to one (local dev only).
    session_private_key: str | None = Field(default=None, validation_alias="SESSION_PRIVATE_KEY")
    access_token_ttl_seconds: int = Field(default=900, ge=60, le=3600, validation_alias="ACCESS_TOKEN_TTL")
    refresh_token_ttl_seconds: int = Field(
        default=30 * 86400, ge=3600, le=90 * 86400, validation_alias="REFRESH_TOKEN_TTL"
    )
    cookie_secure: bool = Field(default=True, validation_alias="COOKIE_SECURE")

    # The identity provider whose ID tokens sign-up and sign-in accept (Cognito or any OIDC issuer).
    idp_issuer: str | None = Field(default=None, validation_alias="IDP_ISSUER")
    idp_jwks_url: str | None = Field(default=None, validation_alias="IDP_JWKS_URL")
    idp_audiences: Annotated[tuple[str, ...], NoDecode] = Field(default=(), validation_alias="IDP_AUDIENCES")
    idp_client_ids: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), validation_alias="IDP_CLIENT_IDS"
    )
    idp_token_use: str | None = Field(default=None, validation_alias="IDP_TOKEN_USE")
    # Pinned public JWKs (a JWKS JSON document) for tests and the local dev IdP.
    idp_jwks: str | None = Field(default=None, validation_alias="IDP_JWKS")

    # Per-tenant SSO (Cognito user-pool identity providers). Unset pool: SSO connections are unavailable.
    sso_user_pool_id: str | None = Field(default=None, validation_alias="SSO_USER_POOL_ID")
    # The app client federated users sign in through (its SupportedIdentityProviders gain each provider).
    sso_app_client_id: str | None = Field(default=None, validation_alias="SSO_APP_CLIENT_ID")
    # The hosted UI base URL (the user pool domain), e.g. https://example.auth.us-east-1.amazoncognito.com.
    sso_hosted_ui_url: str | None = Field(default=None, validation_alias="SSO_HOSTED_UI_URL")
    sso_redirect_uri: str | None = Field(default=None, validation_alias="SSO_REDIRECT_URI")
    sso_secret_prefix: str = Field(default="saas/sso", validation_alias="SSO_SECRET_PREFIX")
    sso_fetch_timeout_seconds: float = Field(default=5.0, gt=0, le=10, validation_alias="SSO_FETCH_TIMEOUT")
    # Loopback and private addresses are refused for IdP metadata/discovery; the local stack's dev IdP and
    # tests live on loopback, so they may allow it (refused in AWS environments).
    sso_allow_loopback_fetch: bool = Field(default=False, validation_alias="SSO_ALLOW_LOOPBACK_FETCH")
    # The DNS server domain verification asks (`host:port`, e.g. the local stack's `127.0.0.1:5353`);
    # unset: the system's resolvers.
    sso_dns_server: str | None = Field(
        default=None, pattern=r"^[0-9.]+:[0-9]{1,5}$", validation_alias="SSO_DNS_SERVER"
    )
    # Latency and errors per route template as metrics (else only per service; the route stays in the log).
    metrics_per_route: bool = Field(default=True, validation_alias="METRICS_PER_ROUTE")

    # Request limits.
    max_body_bytes: int = Field(
        default=256 * 1024, ge=1024, le=6 * 1024 * 1024, validation_alias="MAX_BODY_BYTES"
    )

    # Rate limiting (DynamoDB). Unset table: rate limiting is off (local stack without DynamoDB).
    rate_limit_table: str | None = Field(default=None, validation_alias="RATE_LIMIT_TABLE")
    rate_limit_window_seconds: int = Field(default=60, ge=1, le=3600, validation_alias="RATE_LIMIT_WINDOW")
    aws_endpoint_url: str | None = Field(default=None, validation_alias="AWS_ENDPOINT_URL")
    # Tenant exports are written there by the jobs function; the API only presigns their download.
    reports_bucket: str | None = Field(default=None, validation_alias="REPORTS_BUCKET")
    export_url_ttl_seconds: int = Field(
        default=300, ge=60, le=3600, validation_alias="EXPORT_URL_TTL_SECONDS"
    )
    region: str = Field(default="us-east-1", validation_alias="AWS_REGION")

    @field_validator("idp_audiences", "idp_client_ids", mode="before")
    @classmethod
    def _split_csv(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(item.strip() for item in value.split(",") if item.strip())
        return value

    @model_validator(mode="after")
    def _key_source_is_complete(self) -> ApiSettings:
        if self.session_key_source == "kms" and not self.session_kms_key_id:
            raise ConfigurationError("SESSION_KEY_SOURCE=kms needs SESSION_KMS_KEY_ID")
        if self.session_key_source == "pem" and self.environment in ("dev", "prod"):
            raise ConfigurationError("a PEM session key is for local and test only; use KMS in AWS")
        if self.sso_allow_loopback_fetch and self.environment in ("dev", "prod"):
            raise ConfigurationError("SSO_ALLOW_LOOPBACK_FETCH is for local and test only")
        return self

    def pinned_idp_keys(self) -> tuple[dict[str, Any], ...]:
        if not self.idp_jwks:
            return ()
        try:
            document = json.loads(self.idp_jwks)
            return tuple(document["keys"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigurationError("IDP_JWKS must be a JWKS JSON document") from exc


@lru_cache(maxsize=1)
def get_settings() -> ApiSettings:
    return ApiSettings()
