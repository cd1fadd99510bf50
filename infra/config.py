"""Typed per-environment configuration, validated once from the CDK context.

`cdk.json` holds one block per environment under `environments`; `-c env=dev|prod` picks one and any
`-c key=value` given on the command line for a top-level field overrides it. Account and region come from
the context or from the CLI's resolved defaults (`CDK_DEFAULT_ACCOUNT`/`CDK_DEFAULT_REGION`): nothing
account-specific lives in the repository.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

EDGE_REGION = "us-east-1"  # Lambda@Edge, CloudFront WAF and CloudFront certificates live only here


class ConfigError(ValueError):
    """The CDK context does not describe a valid environment."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DatabaseConfig(_Frozen):
    instance_type: str = "t4g.micro"
    allocated_storage_gib: int = Field(default=20, ge=20, le=65536)
    max_allocated_storage_gib: int = Field(default=100, ge=20, le=65536)
    multi_az: bool = False
    backup_retention_days: int = Field(default=7, ge=1, le=35)
    deletion_protection: bool = False
    proxy_max_connections_percent: int = Field(default=90, ge=1, le=100)
    name: str = "saas"
    owner_user: str = "saas_owner"
    app_user: str = "saas_app"


class IdentityProviderConfig(_Frozen):
    """An extra OIDC issuer the edge accepts, known before any deploy. The stack's own Cognito pool is not
    listed here: the edge learns it at run time from the API (`edge.remote_config`, docs/deploy.md)."""

    issuer: str
    jwks_url: str
    audiences: tuple[str, ...] = ()
    client_ids: tuple[str, ...] = ()
    token_use: Literal["id", "access"] | None = "id"  # noqa: S105 - a Cognito token type, not a secret


class EnvironmentConfig(_Frozen):
    name: Literal["dev", "prod"]
    account: str | None = None
    region: str = "eu-west-1"
    prefix: str = Field(default="", pattern=r"^[a-z0-9-]{0,24}$")
    retain_data: bool = False
    bundle: bool = True
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_retention_days: int = 30
    max_azs: int = Field(default=2, ge=2, le=3)
    # Named explicitly so synth never looks them up in the account (offline, deterministic).
    availability_zones: tuple[str, ...] = ()
    nat_gateways: int = Field(default=1, ge=0, le=3)
    database: DatabaseConfig = DatabaseConfig()
    api_memory_mb: int = Field(default=1024, ge=128, le=10240)
    api_timeout_seconds: int = Field(default=15, ge=3, le=60)
    api_reserved_concurrency: int | None = Field(default=None, ge=1)
    worker_timeout_seconds: int = Field(default=120, ge=10, le=900)
    processor_timeout_seconds: int = Field(default=30, ge=5, le=900)
    waf_rate_limit_per_5_minutes: int = Field(default=2000, ge=10)
    domain_names: tuple[str, ...] = ()
    certificate_arn: str | None = None
    public_base_url: str | None = None
    alarm_email: str | None = None
    ses_identity: str = "example.com"  # a verified domain (or one address) SES sends from
    email_sender: str | None = None  # defaults to no-reply@<ses_identity domain>
    session_issuer: str = "saas-api"
    session_audience: str = "saas-api"
    identity_providers: tuple[IdentityProviderConfig, ...] = ()
    # Pinned public JWKs for session tokens (optional; the edge otherwise fetches session_jwks_url).
    session_public_keys: tuple[dict[str, Any], ...] = ()
    # A GrowthBook SDK payload ({"features": {...}}) bundled into the edge config.
    flags: dict[str, Any] = Field(default_factory=lambda: {"features": {}})
    report_retention_days: int = Field(default=30, ge=1)
    p99_latency_ms: int = Field(default=2000, ge=10)
    # Cost knobs; each trade-off is written down in docs/cost.md.
    cognito_threat_protection: bool = False  # the only Plus feature used: Plus costs $0.02/MAU, no free tier
    nat: Literal["gateway", "instance"] = "gateway"
    nat_instance_type: str = "t4g.nano"
    # AWS APIs the functions reach privately; anything else goes through the NAT (SSM serves no function).
    interface_endpoints: tuple[Literal["sqs", "secretsmanager", "kms", "xray"], ...] = (
        "sqs",
        "secretsmanager",
        "kms",
        "xray",
    )
    tracing: Literal["active", "pass_through"] = "active"
    waf: bool = True
    anonymous_cookie_at_edge: bool = True  # the viewer-response Lambda@Edge exists only for this cookie

    @model_validator(mode="after")
    def _consistent(self) -> EnvironmentConfig:
        if self.domain_names and not self.certificate_arn:
            raise ValueError("domain_names need certificate_arn (an ACM certificate in us-east-1)")
        if self.certificate_arn and f":{EDGE_REGION}:" not in self.certificate_arn:
            raise ValueError("CloudFront certificates must be issued in us-east-1")
        if self.availability_zones and len(self.availability_zones) != self.max_azs:
            raise ValueError("availability_zones must list exactly max_azs zones")
        if self.name == "prod" and not self.retain_data:
            raise ValueError("prod must retain data (retain_data=true)")
        if self.name == "prod" and not self.waf:
            raise ValueError("prod keeps the WAF (waf=true)")
        if not self.nat_gateways and not self.interface_endpoints:
            raise ValueError("with nat_gateways=0 the functions need interface_endpoints to reach AWS APIs")
        if self.name == "prod" and self.log_level == "DEBUG":
            raise ValueError("DEBUG logging is not allowed in prod")
        return self

    @property
    def stack_prefix(self) -> str:
        return self.prefix or f"saas-{self.name}"

    @property
    def sender_address(self) -> str:
        if self.email_sender:
            return self.email_sender
        return self.ses_identity if "@" in self.ses_identity else f"no-reply@{self.ses_identity}"

    @property
    def app_url(self) -> str:
        """Where users land (billing redirects); the public domain when known."""
        if self.public_base_url:
            return self.public_base_url.rstrip("/")
        return f"https://{self.domain_names[0]}" if self.domain_names else ""

    @property
    def zones(self) -> tuple[str, ...]:
        return self.availability_zones or tuple(f"{self.region}{letter}" for letter in "abc"[: self.max_azs])

    @property
    def session_jwks_url(self) -> str | None:
        """Where the edge fetches the origin's session keys; unknown until the distribution or a custom
        domain exists, in which case the edge relies on keys pinned in its config."""
        return f"{self.app_url}/.well-known/jwks.json" if self.app_url else None


_BOOL_WORDS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _coerce(value: Any) -> Any:
    """Context given with `-c key=value` arrives as a string."""
    if isinstance(value, str) and value.lower() in _BOOL_WORDS:
        return _BOOL_WORDS[value.lower()]
    return value


def load_config(
    context: Mapping[str, Any], *, default_account: str | None, default_region: str | None
) -> EnvironmentConfig:
    """Build the typed config for `context["env"]` from the `environments` block and overrides."""
    env_name = str(context.get("env", "dev"))
    environments = context.get("environments") or {}
    if env_name not in environments:
        raise ConfigError(f"unknown environment {env_name!r}; known: {sorted(environments)}")
    raw: dict[str, Any] = {"name": env_name, **environments[env_name]}
    for key in ("account", "region", "bundle", "prefix", "public_base_url", "alarm_email"):
        if context.get(key) is not None:
            raw[key] = _coerce(context[key])
    raw.setdefault("account", default_account)
    if default_region and "region" not in environments[env_name] and context.get("region") is None:
        raw["region"] = default_region
    try:
        return EnvironmentConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"invalid configuration for environment {env_name!r}:\n{exc}") from exc
