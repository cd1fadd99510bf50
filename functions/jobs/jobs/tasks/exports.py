"""`tenant_export`: the tenant's archive (``saascore.archive``) streamed into S3, then an e-mail.

One read-only repeatable-read transaction reads every tenant table at the same moment through COPY; the
zip is written straight into a multipart upload, so memory stays around one part whatever the tenant's
size. The object key is the job's (a retry overwrites it); the requester is told by ``send_email`` with a
dedup key, and the tenant's systems by an ``export.ready`` event whose id derives from the job's, so a
retried job never mails or announces twice. The download URL is presigned by the API on each
``GET /api/v1/exports/{id}``, short-lived, never stored.
"""

from __future__ import annotations

from typing import IO, Any, cast
from uuid import UUID, uuid5

from pydantic import BaseModel, ConfigDict

from jobs.clients import get_s3_client
from jobs.context import JobContext
from jobs.repositories import exports as repo
from jobs.tasks.s3_stream import S3StreamWriter
from saascore.archive.export import snapshot, write_archive
from saascore.archive.format import ARCHIVE_CONTENT_TYPE, export_object_key
from saascore.db.tenancy import tenant_transaction
from saascore.events import record_event
from saascore.exceptions import ConfigurationError
from saascore.jobs import deliver_pending, enqueue_job

READY_EVENT = "export.ready"


class ExportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    requested_by: UUID


class _ZipSink:
    """What ``zipfile`` needs of a non-seekable output: write, tell, flush."""

    def __init__(self, writer: S3StreamWriter) -> None:
        self._writer = writer

    def write(self, data: bytes) -> int:
        self._writer.write(bytes(data))
        return len(data)

    def tell(self) -> int:
        return self._writer.bytes_written

    def flush(self) -> None:
        """Parts are sent when full; nothing to flush before close."""


def tenant_export(ctx: JobContext) -> dict[str, Any]:
    request = ExportRequest.model_validate(ctx.payload)
    settings = ctx.settings
    if not settings.reports_bucket:
        raise ConfigurationError("REPORTS_BUCKET is not configured")
    key = export_object_key(ctx.tenant, ctx.job_id)
    conn = ctx.database.connection()
    with (
        S3StreamWriter(
            get_s3_client(),
            bucket=settings.reports_bucket,
            key=key,
            part_bytes=settings.report_part_bytes,
            content_type=ARCHIVE_CONTENT_TYPE,
        ) as out,
        snapshot(conn, tenant_id=ctx.tenant),
    ):
        # zipfile uses only write/tell/flush of a non-seekable output (it writes data descriptors).
        manifest = write_archive(conn, tenant_id=ctx.tenant, out=cast("IO[bytes]", _ZipSink(out)))
    with tenant_transaction(ctx.tenant, database=ctx.database) as tx:
        record_event(
            tx,
            tenant_id=ctx.tenant,
            type=READY_EVENT,
            data={
                "export": {
                    "id": str(ctx.job_id),
                    "requested_by": str(request.requested_by),
                    "bytes": out.bytes_written,
                    "rows": manifest.row_counts,
                    "format_version": manifest.format_version,
                    "schema_version": manifest.schema_version,
                }
            },
            event_id=uuid5(ctx.job_id, READY_EVENT),
        )
        email = repo.member_email(tx, user_id=request.requested_by)
        if email is not None:
            enqueue_job(
                tx,
                tenant_id=ctx.tenant,
                job_type="send_email",
                payload={"template": "export_ready", "to": [email], "data": {"export_id": str(ctx.job_id)}},
                dedup_key=f"export-ready:{ctx.job_id}",
            )
    deliver_pending(database=ctx.database)
    return {
        "key": key,
        "bytes": out.bytes_written,
        "schema_version": manifest.schema_version,
        "format_version": manifest.format_version,
        "rows": manifest.row_counts,
        "notified": email is not None,
    }
