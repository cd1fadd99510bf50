"""The job message every producer sends and the worker parses (DESIGN §5), and the job row's states."""

from __future__ import annotations

import json
from typing import Any, Final, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

JobStatus = Literal["queued", "running", "succeeded", "failed", "dead"]
FINISHED_STATUSES: Final = frozenset({"succeeded", "failed", "dead"})

JOB_TYPE_PATTERN: Final = r"^[a-z][a-z0-9_]{0,63}$"
# Payloads ride in the SQS body (256 KB) and as a bound parameter; small keeps both far from any limit.
MAX_PAYLOAD_BYTES: Final = 8 * 1024


class JobMessage(BaseModel):
    """SQS body `{"job_id", "type", "tenant_id", "payload", "attempt"}`; tenant_id is null for system jobs."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    job_id: UUID
    type: str = Field(pattern=JOB_TYPE_PATTERN)
    tenant_id: UUID | None
    payload: dict[str, Any] = Field(default_factory=dict)
    attempt: int = Field(default=1, ge=1)

    def body(self) -> str:
        return self.model_dump_json()


def encode_payload(payload: Any) -> str:
    """Canonical JSON of a payload; raises ValueError past MAX_PAYLOAD_BYTES."""
    text = json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str)
    if len(text.encode()) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"job payload is larger than {MAX_PAYLOAD_BYTES} bytes")
    return text
