"""`export_audit_log` (daily, per tenant): the previous UTC day of the tenant's audit log as one JSON Lines
file in the audit-log bucket, ``audit-logs/<tenant_id>/<YYYY>/<MM>/<DD>.jsonl``, in the line format of
`GET /api/v1/audit-logs/export` (``saascore.archive.audit_format``, decision 0114).

The bucket has Object Lock (a written day can be neither overwritten nor deleted until its retention
ends), so the file is written once: a run that finds the day's key present skips it, and a retried or
repeated run never writes a second version. The day is complete by then: it ended at least a schedule
offset ago, longer than any transaction may run (the statement timeout). A day with no entries gets an
empty file, so every day of the tenant's life has one. ``payload.day`` (YYYY-MM-DD) exports that past day
instead (a backfill).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from jobs.clients import get_s3_client
from jobs.context import JobContext
from jobs.exceptions import PermanentJobError
from jobs.tasks.s3_stream import S3StreamWriter
from saascore.archive.audit_export import audit_lines
from saascore.archive.audit_format import AUDIT_LOG_CONTENT_TYPE, daily_object_key
from saascore.db.tenancy import tenant_transaction
from saascore.exceptions import ConfigurationError


class AuditLogDay(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    day: date | None = None


def _exists(bucket: str, key: str) -> bool:
    client = get_s3_client()
    try:
        client.head_object(Bucket=bucket, Key=key)
    except client.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
            return False
        raise
    return True


def export_audit_log(ctx: JobContext) -> dict[str, Any]:
    request = AuditLogDay.model_validate(ctx.payload)
    settings = ctx.settings
    if not settings.audit_log_bucket:
        raise ConfigurationError("AUDIT_LOG_BUCKET is not configured")
    today = datetime.now(UTC).date()
    day = request.day or today - timedelta(days=1)
    if day >= today:
        raise PermanentJobError(f"{day} has not ended yet; only a past UTC day is exported")
    key = daily_object_key(ctx.tenant, day)
    if _exists(settings.audit_log_bucket, key):
        return {"key": key, "written": False}
    since = datetime.combine(day, time(), tzinfo=UTC)
    lines = 0
    with (
        S3StreamWriter(
            get_s3_client(),
            bucket=settings.audit_log_bucket,
            key=key,
            part_bytes=settings.report_part_bytes,
            content_type=AUDIT_LOG_CONTENT_TYPE,
        ) as out,
        tenant_transaction(ctx.tenant, database=ctx.database) as conn,
    ):
        for line in audit_lines(conn, since=since, until=since + timedelta(days=1)):
            out.write(line)
            lines += 1
    return {"key": key, "written": True, "entries": lines, "bytes": out.bytes_written}
