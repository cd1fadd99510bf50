"""Customer exports: the `tenant_export` job (the tenant's archive in S3) and its short-lived download link.

An export is a job of type ``tenant_export``; its row (tenant-scoped under RLS) is the export's state, so
another tenant's export id is simply not found. The download URL is presigned on every read with a short
lifetime and never stored.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from api.exceptions import NotFoundError
from api.schemas.exports import Export
from api.services.access import Access
from api.services.audit import AuditActor, record
from api.services.jobs import JobDelivery
from api.settings import get_settings
from saascore.archive.format import export_object_key
from saascore.db.connection import Connection
from saascore.exceptions import ConfigurationError
from saascore.jobs import enqueue_job
from saascore.jobs.repositories import jobs as repo

EXPORT_JOB = "tenant_export"


@lru_cache(maxsize=1)
def _s3_client() -> Any:
    import boto3
    from botocore.config import Config

    settings = get_settings()
    # SigV4 so the presigned URL works for encrypted objects and in every region.
    return boto3.client(
        "s3",
        region_name=settings.region,
        endpoint_url=settings.aws_endpoint_url,
        config=Config(signature_version="s3v4"),
    )


def _download(tenant_id: uuid.UUID, export_id: uuid.UUID) -> tuple[str, datetime]:
    settings = get_settings()
    if not settings.reports_bucket:
        raise ConfigurationError("REPORTS_BUCKET is not configured")
    ttl = settings.export_url_ttl_seconds
    url = _s3_client().generate_presigned_url(
        "get_object",
        Params={
            "Bucket": settings.reports_bucket,
            "Key": export_object_key(tenant_id, export_id),
            "ResponseContentDisposition": f'attachment; filename="export-{export_id}.zip"',
        },
        ExpiresIn=ttl,
    )
    return str(url), datetime.now(UTC) + timedelta(seconds=ttl)


def request_export(conn: Connection, access: Access, actor: AuditActor, delivery: JobDelivery) -> Export:
    tenant_id = access.principal.tenant_id
    export_id = enqueue_job(
        conn,
        tenant_id=tenant_id,
        job_type=EXPORT_JOB,
        payload={"requested_by": str(access.principal.user_id)},
    )
    record(conn, actor, action="export.requested", resource_type="export", resource_id=export_id)
    delivery.add(tenant_id, export_id)
    return get_export(conn, access, export_id)


def get_export(conn: Connection, access: Access, export_id: uuid.UUID) -> Export:
    job = repo.get_job(conn, job_id=export_id)
    if job is None or job.type != EXPORT_JOB:
        raise NotFoundError("no such export")
    result = job.result if job.status == "succeeded" and job.result else None
    url, expires_at = _download(access.principal.tenant_id, export_id) if result else (None, None)
    return Export(
        id=job.id,
        status=job.status,
        created_at=job.created_at,
        finished_at=job.finished_at,
        rows=None if result is None else dict(result["rows"]),
        bytes=None if result is None else int(result["bytes"]),
        download_url=url,
        download_expires_at=expires_at,
        error=_error(job.status, job.error),
    )


def _error(status: str, error: str | None) -> str | None:
    # Only our own permanent-failure messages are shown; a dead job's last exception may name internals.
    if status == "failed":
        return error
    return "the export failed; request a new one" if status == "dead" else None
