"""What a job handler receives: the job's identity, its payload and the function's settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from jobs.exceptions import PermanentJobError
from jobs.settings import JobsSettings
from saascore.db.connection import Database


@dataclass(frozen=True, slots=True)
class JobContext:
    job_id: UUID
    job_type: str
    tenant_id: UUID | None
    payload: Mapping[str, Any]
    attempt: int
    settings: JobsSettings
    database: Database

    @property
    def tenant(self) -> UUID:
        """The tenant of a per-tenant job; a system job asking for one is a programming error."""
        if self.tenant_id is None:
            raise PermanentJobError(f"job type {self.job_type!r} needs a tenant")
        return self.tenant_id
