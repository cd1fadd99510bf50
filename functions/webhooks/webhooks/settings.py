"""Typed settings of the receiver and the processor (read once per container, cached)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, model_validator

from saascore.exceptions import ConfigurationError
from saascore.settings import BaseServiceSettings

SECRET_REFERENCE_PREFIXES = ("secretsmanager:", "ssm:")


class WebhooksSettings(BaseServiceSettings):
    # Secret reference (or, locally, the value) holding one or more `whsec_...` secrets separated by
    # commas: during a rotation both the new and the old endpoint secret are accepted.
    webhook_secret: str = Field(default="", validation_alias="STRIPE_WEBHOOK_SECRET")
    webhook_queue_url: str = Field(default="", validation_alias="WEBHOOK_QUEUE_URL")
    # Live-mode endpoints accept only live events, test-mode endpoints only test events.
    livemode: bool = Field(default=False, validation_alias="STRIPE_LIVEMODE")
    tolerance_seconds: int = Field(default=300, ge=1, le=3600, validation_alias="STRIPE_WEBHOOK_TOLERANCE")
    # Stripe events are a few KB; SQS takes 256 KiB per message, so anything larger is refused up front.
    max_body_bytes: int = Field(
        default=262_144, ge=1024, le=262_144, validation_alias="WEBHOOK_MAX_BODY_BYTES"
    )
    # Re-fetch subscriptions from Stripe before applying them (costs an API call per event).
    refetch_objects: bool = Field(default=False, validation_alias="STRIPE_REFETCH_OBJECTS")

    @model_validator(mode="after")
    def _secrets_are_references_outside_local(self) -> WebhooksSettings:
        if (
            self.environment in ("dev", "prod")
            and self.webhook_secret
            and not self.webhook_secret.startswith(SECRET_REFERENCE_PREFIXES)
        ):
            raise ConfigurationError(
                "STRIPE_WEBHOOK_SECRET must be a secretsmanager:/ssm: reference outside local"
            )
        return self


@lru_cache(maxsize=1)
def get_settings() -> WebhooksSettings:
    return WebhooksSettings()
