"""Typed per-environment configuration, validated once from the CDK context.

`cdk.json` holds one block per environment under `environments`; `-c env=dev|prod` picks one and any
`-c key=value` given on the command line for a top-level field overrides it. Account and region come from
the context or from the CLI's resolved defaults (`CDK_DEFAULT_ACCOUNT`/`CDK_DEFAULT_REGION`): nothing
account-specific lives in the repository.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from saascore.db.cells import CELL_NAME, POOLED_CELL

EDGE_REGION = "us-east-1"  # Lambda@Edge, CloudFront WAF and CloudFront certificates live only here
CERTIFICATE_ARN = re.compile(r"^arn:aws[a-z-]*:acm:(?P<region>[a-z0-9-]+):\d{12}:certificate/[0-9a-f-]{36}$")
TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:(?P<region>[a-z0-9-]+):\d{12}:[A-Za-z0-9_-]{1,256}$")
HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
TENANT_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
EMAIL = re.compile(r"^[^@\s]+@[a-z0-9.-]+\.[a-z]{2,63}$")


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
    # How many connections the app's functions may hold on the proxy at once; every concurrency cap
    # derives from it (`concurrency_limits`, docs/infrastructure.md).
    connection_budget: int = Field(default=40, ge=12, le=5000)
    name: str = "saas"
    owner_user: str = "saas_owner"
    app_user: str = "saas_app"


class CellConfig(DatabaseConfig):
    """A dedicated cell: an instance and RDS Proxy of its own (docs/cells.md). `reserved_for` lists the
    tenant slugs whose sign-up lands in it."""

    reserved_for: tuple[str, ...] = ()


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
    database: DatabaseConfig = DatabaseConfig()  # the pooled cell (also accepted as `cells.pooled`)
    cells: dict[str, CellConfig] = Field(default_factory=dict)  # dedicated cells, by cell name
    api_memory_mb: int = Field(default=1024, ge=128, le=10240)
    api_timeout_seconds: int = Field(default=15, ge=3, le=60)
    worker_timeout_seconds: int = Field(default=120, ge=10, le=900)
    processor_timeout_seconds: int = Field(default=30, ge=5, le=900)
    waf_rate_limit_per_5_minutes: int = Field(default=2000, ge=10)
    domain_names: tuple[str, ...] = ()
    certificate_arn: str | None = None
    public_base_url: str | None = None
    alarm_email: str | None = None
    # Existing SNS topics (Chatbot, paging) the alarms also notify: one in the home region, one in us-east-1.
    alarm_topic_arn: str | None = None
    edge_alarm_topic_arn: str | None = None
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
    # The daily audit-log files: Object Lock retention (a file can be neither overwritten nor deleted
    # before it ends; `compliance` binds the account's root user too) and when they expire after it.
    audit_log_retention_days: int = Field(default=365, ge=1, le=36_500)
    audit_log_lock_mode: Literal["governance", "compliance"] = "governance"
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
    # Latency and 5xx per route template as metrics (2 series per route); off: per service, and the
    # route is still in every EMF line for Logs Insights (docs/decisions/0090).
    per_route_metrics: bool = True
    # Alarm when yesterday's (UTC) sign-ups or trial -> paid conversions fall below these; None: no alarm.
    signups_daily_floor: int | None = Field(default=None, ge=1)
    trial_conversions_daily_floor: int | None = Field(default=None, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _pooled_cell_is_the_database(cls, data: Any) -> Any:
        """`cells: {pooled: {...}, acme: {...}}`: the pooled entry is the `database` block."""
        if not isinstance(data, dict) or not isinstance(data.get("cells"), dict):
            return data
        cells = dict(data["cells"])
        if POOLED_CELL not in cells:
            return data
        pooled = cells.pop(POOLED_CELL)
        if "database" in data:
            raise ValueError("cells.pooled and database both describe the pooled cell; keep one of them")
        if isinstance(pooled, dict) and pooled.get("reserved_for"):
            raise ValueError(
                "cells.pooled.reserved_for: the pooled cell takes every unreserved slug; remove it"
            )
        return {**data, "database": pooled, "cells": cells}

    @model_validator(mode="after")
    def _consistent(self) -> EnvironmentConfig:
        """Every refusal names the key and the fix, so a bad `cdk.json` fails at synth, not at deploy."""
        problems = [
            *self._domain_problems(),
            *self._alarm_problems(),
            *self._prod_problems(),
            *self._cell_problems(),
        ]
        if self.availability_zones and len(self.availability_zones) != self.max_azs:
            problems.append(
                f"availability_zones: lists {len(self.availability_zones)} zones but max_azs is "
                f"{self.max_azs}; list exactly max_azs zones of {self.region} or leave it empty"
            )
        if self.public_base_url is not None and not re.match(
            r"^https://[a-z0-9.-]+(:\d+)?/?$", self.public_base_url
        ):
            problems.append(
                f"public_base_url: {self.public_base_url!r} is not an https origin; use https://<host> "
                "with no path"
            )
        identity = self.ses_identity
        if not (EMAIL.match(identity) if "@" in identity else HOSTNAME.match(identity)):
            problems.append(
                f"ses_identity: {identity!r} is neither a domain nor an e-mail address; set the domain "
                "(or address) SES sends from"
            )
        if self.name == "prod" and not self.waf:
            problems.append("waf: prod keeps the WAF; set waf to true")
        if not self.nat_gateways and not self.interface_endpoints:
            problems.append(
                "nat_gateways: with 0 NAT gateways the functions need interface_endpoints to reach AWS APIs; "
                "set nat_gateways >= 1 or list interface_endpoints"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _domain_problems(self) -> list[str]:
        problems = [
            f"domain_names: {name!r} is not a lower-case host name; list the viewer host names only"
            for name in self.domain_names
            if not HOSTNAME.match(name)
        ]
        if self.domain_names and not self.certificate_arn:
            problems.append(
                "certificate_arn: domain_names need an ACM certificate; request one in us-east-1 covering "
                "them and set its ARN"
            )
        if self.certificate_arn:
            match = CERTIFICATE_ARN.match(self.certificate_arn)
            if match is None:
                problems.append(
                    f"certificate_arn: {self.certificate_arn!r} is not an ACM certificate ARN "
                    "(arn:aws:acm:us-east-1:<account>:certificate/<id>)"
                )
            elif match["region"] != EDGE_REGION:
                problems.append(
                    f"certificate_arn: CloudFront certificates must be issued in us-east-1, not "
                    f"{match['region']}; request (or import) the certificate in us-east-1"
                )
            if not self.domain_names:
                problems.append("domain_names: certificate_arn is set but no domain names use it; list them")
        return problems

    def _alarm_problems(self) -> list[str]:
        problems: list[str] = []
        if self.alarm_email is not None and not EMAIL.match(self.alarm_email):
            problems.append(f"alarm_email: {self.alarm_email!r} is not an e-mail address")
        for key, arn, region in (
            ("alarm_topic_arn", self.alarm_topic_arn, self.region),
            ("edge_alarm_topic_arn", self.edge_alarm_topic_arn, EDGE_REGION),
        ):
            if arn is None:
                continue
            match = TOPIC_ARN.match(arn)
            if match is None:
                problems.append(
                    f"{key}: {arn!r} is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)"
                )
            elif match["region"] != region:
                problems.append(
                    f"{key}: alarms can only notify a topic in their own region ({region}), not "
                    f"{match['region']}; give a topic in {region}"
                )
        if (self.alarm_topic_arn is None) != (self.edge_alarm_topic_arn is None):
            problems.append(
                "alarm_topic_arn, edge_alarm_topic_arn: give both or neither; CloudFront and edge alarms "
                "live in us-east-1 and need a topic there too"
            )
        return problems

    def _cell_problems(self) -> list[str]:
        problems = [
            f"cells: {name!r} is not a cell name; use lower-case letters, digits and '-' ({CELL_NAME.pattern})"
            for name in self.cells
            if not CELL_NAME.fullmatch(name)
        ]
        slugs = [slug for cell in self.cells.values() for slug in cell.reserved_for]
        problems += [
            f"cells: tenant slug {slug!r} is reserved by more than one cell; reserve it in one"
            for slug in sorted({s for s in slugs if slugs.count(s) > 1})
        ]
        problems += [
            f"cells.{name}.reserved_for: {slug!r} is not a tenant slug"
            for name, cell in self.cells.items()
            for slug in cell.reserved_for
            if not TENANT_SLUG.fullmatch(slug)
        ]
        # Every function container may open one connection to every cell (saascore.db.cells).
        problems += [
            f"cells.{name}.connection_budget: {cell.connection_budget} is below the pooled cell's "
            f"{self.database.connection_budget}; every container may connect to every cell, so raise it"
            for name, cell in self.cells.items()
            if cell.connection_budget < self.database.connection_budget
        ]
        return problems

    def _prod_problems(self) -> list[str]:
        if self.name != "prod":
            return []
        problems: list[str] = []
        if not self.retain_data:
            problems.append("retain_data: prod must retain data; set retain_data=true")
        if self.log_level == "DEBUG":
            problems.append("log_level: DEBUG logging is not allowed in prod; use INFO")
        if not self.domain_names or not self.certificate_arn:
            problems.append(
                "domain_names, certificate_arn: prod serves only a custom domain with an ACM certificate "
                "(TLS 1.2+); CloudFront's default certificate allows TLSv1. Set environments.prod.domain_names "
                "and environments.prod.certificate_arn (us-east-1)"
            )
        if not (self.alarm_email or self.alarm_topic_arn):
            problems.append(
                "alarm_email, alarm_topic_arn: prod alarms need a subscriber; set alarm_email or the "
                "topic ARNs (alarm_topic_arn and edge_alarm_topic_arn)"
            )
        return problems

    @property
    def concurrency(self) -> ConcurrencyLimits:
        return concurrency_limits(self.database.connection_budget)

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


# Functions holding one proxy connection each at most, outside the shares below: the scheduler (reserved
# concurrency 1) and the deploy-time migrate function (reserved concurrency 1; it goes to the instance, but
# counts here so operators never need to think about it).
FIXED_CONNECTIONS = 2
SHARES = {
    "api": 0.55,
    "jobs_worker": 0.2,
    "webhook_processor": 0.1,
    "ses_consumer": 0.1,
    "webhook_delivery": 0.05,
}
SQS_MINIMUM_CONCURRENCY = 2  # the least MaximumConcurrency an SQS event source mapping accepts


@dataclass(frozen=True, slots=True)
class ConcurrencyLimits:
    """Concurrency caps from the connection budget. Every execution environment holds at most one
    connection (saascore.db.connection keeps one, never pools), so the caps' sum bounds the connections."""

    api: int  # reserved concurrency (the only cap a Function URL has)
    jobs_worker: int  # SQS event source MaximumConcurrency (no reserved pool, no throttled receives)
    webhook_processor: int
    ses_consumer: int
    webhook_delivery: int  # outbound webhook delivery worker (jobs.webhook_worker)
    scheduler: int = 1
    migrate: int = 1

    @property
    def total(self) -> int:
        return (
            self.api
            + self.jobs_worker
            + self.webhook_processor
            + self.ses_consumer
            + self.webhook_delivery
            + self.scheduler
            + self.migrate
        )


def concurrency_limits(budget: int) -> ConcurrencyLimits:
    """Split `budget - FIXED_CONNECTIONS` by SHARES, rounding down (SQS consumers at least 2), and give
    what rounding left over to the API."""
    shared = budget - FIXED_CONNECTIONS
    queues = {
        name: max(SQS_MINIMUM_CONCURRENCY, math.floor(shared * share))
        for name, share in SHARES.items()
        if name != "api"
    }
    api = shared - sum(queues.values())
    if api < 1:
        raise ConfigError(
            f"database.connection_budget: {budget} leaves the API no connection; raise it to at least 12"
        )
    return ConcurrencyLimits(api=api, **queues)


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
    for key in (
        "account",
        "region",
        "bundle",
        "prefix",
        "public_base_url",
        "alarm_email",
        "alarm_topic_arn",
        "edge_alarm_topic_arn",
    ):
        if context.get(key) is not None:
            raw[key] = _coerce(context[key])
    raw.setdefault("account", default_account)
    if default_region and "region" not in environments[env_name] and context.get("region") is None:
        raw["region"] = default_region
    try:
        return EnvironmentConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(env_name, exc)) from exc


def _describe(env_name: str, error: ValidationError) -> str:
    """One line per problem, each naming the cdk.json key (`environments.<env>.<key>`) to fix."""
    lines = [f"invalid configuration for environment {env_name!r} (cdk.json: environments.{env_name}):"]
    for problem in error.errors():
        location = ".".join(str(part) for part in problem["loc"])
        message = str(problem["msg"]).removeprefix("Value error, ")
        if location:
            lines.append(f"  {location}: {message} (got {problem.get('input')!r})")
        else:
            lines.extend(f"  {line}" for line in message.splitlines())
    return "\n".join(lines)
