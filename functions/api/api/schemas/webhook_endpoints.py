"""Request and response models of /api/v1/webhook-endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator

from api.schemas.common import RequestModel
from saascore.events.catalog import EVENT_TYPES

MAX_EVENT_TYPES = 50
EndpointUrl = Annotated[
    str, Field(min_length=8, max_length=2048, examples=["https://hooks.example.com/saas"])
]
Description = Annotated[str, Field(max_length=500)]
EventTypes = Annotated[list[str], Field(max_length=MAX_EVENT_TYPES, description="empty = every event type")]
DeliveryStatus = Literal["pending", "succeeded", "failed"]


def _known_types(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    unknown = sorted(set(value) - set(EVENT_TYPES))
    if unknown:
        raise ValueError(f"unknown event types {unknown}; known: {sorted(EVENT_TYPES)}")
    return sorted(set(value))


class WebhookEndpointCreate(RequestModel):
    url: EndpointUrl
    description: Description = ""
    event_types: EventTypes = Field(default_factory=list)

    _types = field_validator("event_types")(_known_types)


class WebhookEndpointUpdate(RequestModel):
    url: EndpointUrl | None = None
    description: Description | None = None
    event_types: EventTypes | None = None
    enabled: bool | None = Field(default=None, description="false disables, true enables (clears failures)")

    _types = field_validator("event_types")(_known_types)


class WebhookEndpoint(BaseModel):
    id: uuid.UUID
    url: str
    description: str
    event_types: list[str]
    status: Literal["enabled", "disabled"]
    disabled_reason: Literal["manual", "failing"] | None
    disabled_at: datetime | None
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime


class WebhookEndpointWithSecret(WebhookEndpoint):
    secret: str = Field(description="the signing secret (whsec_…), shown only in this response")


class SecretRotation(RequestModel):
    overlap_seconds: Annotated[int, Field(ge=0, le=7 * 86_400)] | None = Field(
        default=None, description="how long the previous secret keeps signing (default 24 h)"
    )


class RotatedSecret(BaseModel):
    secret: str = Field(description="the new signing secret (whsec_…), shown only in this response")
    previous_secret_expires_at: datetime | None


class WebhookDelivery(BaseModel):
    id: uuid.UUID
    endpoint_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    last_duration_ms: int | None
    delivered_at: datetime | None
    created_at: datetime
