"""Response models of /api/v2/events (the tenant's domain event log)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel


class Event(BaseModel):
    id: uuid.UUID
    type: str
    version: int
    data: dict[str, Any]
    actor_type: Literal["user", "system", "stripe"]
    actor_user_id: uuid.UUID | None
    request_id: str | None
    occurred_at: datetime
