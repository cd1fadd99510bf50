"""Typed settings shared by every origin function; each function extends `BaseServiceSettings`."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from saascore.exceptions import ConfigurationError
from saascore.secrets import resolve_secret

Environment = Literal["local", "test", "dev", "prod"]


class DatabaseSettings(BaseSettings):
    """How the application reaches PostgreSQL (through RDS Proxy in AWS).

    ``DATABASE_URL`` wins when set (local stack, tests). Otherwise host/port/name/user and either an
    IAM auth token (``DB_AUTH=iam``) or a password reference resolved from Secrets Manager.

    The read endpoint (a streaming replica; in AWS the replica's RDS Proxy) is ``DATABASE_READ_URL``
    or ``DB_READ_HOST`` (same port, name, user and authentication); with neither, reads that could go
    to a replica go to the primary. ``DB_MAX_REPLICA_LAG_SECONDS`` bounds how far behind the replica
    may be before such reads fall back to the primary.
    """

    model_config = SettingsConfigDict(env_prefix="DB_", extra="ignore", frozen=True)

    url: SecretStr | None = Field(default=None, validation_alias="DATABASE_URL")
    host: str = "127.0.0.1"
    port: int = 5432
    name: str = "saas"
    user: str = "saas_app"
    auth: Literal["password", "iam"] = "password"
    password: SecretStr | None = None
    password_secret: str | None = None
    sslmode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] = "require"
    region: str | None = Field(default=None, validation_alias="AWS_REGION")
    connect_timeout_seconds: int = Field(default=5, ge=1, le=60)
    statement_timeout_ms: int = Field(default=5000, ge=0, le=900_000)
    read_url: SecretStr | None = Field(default=None, validation_alias="DATABASE_READ_URL")
    read_host: str | None = None
    max_replica_lag_seconds: float = Field(default=30.0, ge=0, le=3600)

    @property
    def has_read_endpoint(self) -> bool:
        return self.read_url is not None or self.read_host is not None

    def read_endpoint(self) -> DatabaseSettings:
        """These settings pointed at the read endpoint (only when ``has_read_endpoint``)."""
        if not self.has_read_endpoint:
            raise ConfigurationError("no read endpoint configured (DATABASE_READ_URL or DB_READ_HOST)")
        if self.read_url is not None:
            return self.model_copy(update={"url": self.read_url, "read_url": None, "read_host": None})
        return self.model_copy(
            update={"url": None, "host": self.read_host, "read_url": None, "read_host": None}
        )

    def resolved_password(self) -> str | None:
        if self.password is not None:
            return self.password.get_secret_value()
        if self.password_secret:
            return resolve_secret(self.password_secret)
        return None


class BaseServiceSettings(BaseSettings):
    """Fields every origin function has; subclass per function with its own fields."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    environment: Environment = Field(default="local", validation_alias="APP_ENV")
    service_name: str = Field(default="saas", validation_alias="POWERTOOLS_SERVICE_NAME")
    log_level: str = Field(default="INFO", validation_alias="LOG_LEVEL")

    @model_validator(mode="after")
    def _production_is_strict(self) -> BaseServiceSettings:
        if self.environment == "prod" and self.log_level.upper() == "DEBUG":
            raise ConfigurationError("DEBUG logging is not allowed in prod (it may log request bodies)")
        return self


@lru_cache(maxsize=1)
def get_database_settings() -> DatabaseSettings:
    return DatabaseSettings()
