"""Response model of /api/v1/exports (a tenant's archive, made by the `tenant_export` job)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class Export(BaseModel):
    id: uuid.UUID
    status: Literal["queued", "running", "succeeded", "failed", "dead"]
    created_at: datetime
    finished_at: datetime | None
    rows: dict[str, int] | None = Field(description="rows per tenant table in the archive, once succeeded")
    bytes: int | None = Field(description="the archive's size, once succeeded")
    download_url: str | None = Field(description="a presigned S3 URL, fresh on every read, once succeeded")
    download_expires_at: datetime | None
    error: str | None
