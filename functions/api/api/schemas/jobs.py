"""Request and response models of /api/v1/reports and /api/v1/jobs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from api.schemas.common import RequestModel


class ReportCreate(RequestModel):
    kind: Literal["projects"] = "projects"
    status: Literal["active", "archived"] | None = None


class Job(BaseModel):
    id: uuid.UUID
    type: str
    status: Literal["queued", "running", "succeeded", "failed", "dead"]
    attempts: int
    result: dict[str, Any] | None
    error: str | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
