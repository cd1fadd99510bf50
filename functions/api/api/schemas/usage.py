"""Request and response models of /api/v1/usage."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from api.schemas.common import RequestModel

MAX_QUANTITY = 1_000_000


class UsageCreate(RequestModel):
    meter: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    quantity: int = Field(default=1, ge=1, le=MAX_QUANTITY)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=255)


class UsageSummary(BaseModel):
    period_start: datetime
    used: int
    soft_limit: int | None
    hard_limit: int | None
    soft_limit_reached: bool


class UsageEvent(BaseModel):
    id: uuid.UUID
    meter: str
    quantity: int
    idempotency_key: str
    occurred_at: datetime
    usage: UsageSummary


class MonthlyUsage(BaseModel):
    meter: str
    month: datetime
    quantity: int
    events: int


class UsageOverview(BaseModel):
    current: UsageSummary
    months: list[MonthlyUsage]
