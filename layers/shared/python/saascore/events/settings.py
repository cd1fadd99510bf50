"""Outbound webhook settings, read from the environment once (API, jobs worker, delivery worker)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from saascore.exceptions import ConfigurationError
from saascore.settings import Environment

# Environments where a receiver on a loopback address may be allowed (tests and the local stack only).
LOOPBACK_ENVIRONMENTS = frozenset({"local", "test"})


class WebhookSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    environment: Environment = Field(default="local", validation_alias="APP_ENV")
    delivery_queue_url: str | None = Field(default=None, validation_alias="WEBHOOK_DELIVERY_QUEUE_URL")
    secrets_key_id: str | None = Field(default=None, validation_alias="WEBHOOK_SECRETS_KMS_KEY_ID")
    # Automatic retries stop this long after the event (Standard Webhooks practice: a few days).
    retry_window_seconds: int = Field(
        default=3 * 86_400, ge=60, le=7 * 86_400, validation_alias="WEBHOOK_RETRY_WINDOW_SECONDS"
    )
    backoff_base_seconds: int = Field(
        default=30, ge=1, le=3600, validation_alias="WEBHOOK_BACKOFF_BASE_SECONDS"
    )
    backoff_cap_seconds: int = Field(
        default=6 * 3600, ge=60, le=86_400, validation_alias="WEBHOOK_BACKOFF_CAP_SECONDS"
    )
    disable_after_days: int = Field(default=5, ge=1, le=30, validation_alias="WEBHOOK_DISABLE_AFTER_DAYS")
    # The previous secret keeps signing this long after a rotation (receivers switch over meanwhile).
    rotation_overlap_seconds: int = Field(
        default=86_400, ge=0, le=7 * 86_400, validation_alias="WEBHOOK_ROTATION_OVERLAP_SECONDS"
    )
    connect_timeout_seconds: float = Field(
        default=3.0, gt=0, le=10, validation_alias="WEBHOOK_CONNECT_TIMEOUT_SECONDS"
    )
    total_timeout_seconds: float = Field(
        default=10.0, gt=0, le=30, validation_alias="WEBHOOK_TIMEOUT_SECONDS"
    )
    max_response_bytes: int = Field(
        default=64 * 1024, ge=1024, le=1024 * 1024, validation_alias="WEBHOOK_MAX_RESPONSE_BYTES"
    )
    max_endpoints: int = Field(default=20, ge=1, le=100, validation_alias="WEBHOOK_MAX_ENDPOINTS")
    # Tests and the local stack only: let endpoints on loopback addresses (and plain http to them) through.
    allow_loopback: bool = Field(default=False, validation_alias="WEBHOOK_ALLOW_LOOPBACK")

    @model_validator(mode="after")
    def _loopback_only_locally(self) -> WebhookSettings:
        if self.allow_loopback and self.environment not in LOOPBACK_ENVIRONMENTS:
            raise ConfigurationError(
                f"WEBHOOK_ALLOW_LOOPBACK is for local and test only, not APP_ENV={self.environment}"
            )
        return self


@lru_cache(maxsize=1)
def get_webhook_settings() -> WebhookSettings:
    return WebhookSettings()
