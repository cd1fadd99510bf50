"""The audit log as JSON Lines, format ``saas-audit-log/1``: one definition for the streamed export
(`GET /api/v1/audit-logs/export`) and the daily files in S3 (`audit-logs/<tenant>/<YYYY>/<MM>/<DD>.jsonl`).

Each entry is one line: a JSON object (UTF-8, no insignificant whitespace) with exactly ``FIELDS``, in that
order, ended by ``\\n``. Entries are in ``(created_at, id)`` order. The fields are stable: within format 1
none is removed, renamed or changes meaning (docs/lifecycle.md, Audit-log export; decision 0114); a new field would be
added at the end, so consumers ignore keys they do not know.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, Final
from uuid import UUID

AUDIT_LOG_FORMAT: Final = "saas-audit-log/1"
AUDIT_LOG_CONTENT_TYPE: Final = "application/x-ndjson"
AUDIT_LOGS_PREFIX: Final = "audit-logs/"  # the daily files' keys in the audit-log bucket

FIELDS: Final = (
    "id",
    "tenant_id",
    "created_at",
    "actor_type",
    "actor_user_id",
    "actor_api_key_id",
    "action",
    "resource_type",
    "resource_id",
    "before",
    "after",
    "request_id",
    "ip",
    "user_agent",
)


def _value(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        # Fixed width, always UTC: 2026-12-03T10:38:33.123456Z
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def audit_line(row: Mapping[str, Any]) -> bytes:
    """One audit entry (a row with at least ``FIELDS``) as one line."""
    document = {name: _value(row[name]) for name in FIELDS}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def daily_object_key(tenant_id: UUID, day: date) -> str:
    """Where one UTC day of a tenant's audit log lives in the audit-log bucket."""
    return f"{AUDIT_LOGS_PREFIX}{tenant_id}/{day:%Y/%m/%d}.jsonl"
