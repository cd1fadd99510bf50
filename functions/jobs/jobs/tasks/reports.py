"""`project_report`: the tenant's projects as CSV in S3, streamed page by page; result = presigned URL.

Pages are read by keyset on (created_at, id), each in its own short read-only flight (no long-lived
transaction or server-side cursor through RDS Proxy), from the streaming replica when it is no further
behind than ``DB_MAX_REPLICA_LAG_SECONDS`` and from the primary otherwise (``saascore.db.replica``);
parts go to S3 as soon as they are full, so memory stays around one part whatever the number of rows.
Re-running the job overwrites the same key.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

from psycopg.rows import DictRow
from pydantic import BaseModel, ConfigDict

from jobs.clients import get_s3_client
from jobs.context import JobContext
from jobs.repositories import reports as repo
from jobs.tasks.s3_stream import S3StreamWriter
from saascore.db.replica import replica_reads
from saascore.exceptions import ConfigurationError
from saascore.observability import get_logger

COLUMNS: Final = ("id", "name", "description", "status", "created_at", "updated_at")
# Spreadsheet formula injection (OWASP "CSV injection"): cells starting with these are prefixed with '.
FORMULA_PREFIXES: Final = ("=", "+", "-", "@", "\t", "\r")

logger = get_logger("jobs")


class ReportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    status: Literal["active", "archived"] | None = None


def safe_cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def project_report(ctx: JobContext) -> dict[str, Any]:
    request = ReportRequest.model_validate(ctx.payload)
    settings = ctx.settings
    if not settings.reports_bucket:
        raise ConfigurationError("REPORTS_BUCKET is not configured")
    key = f"reports/{ctx.tenant}/{ctx.job_id}.csv"
    client = get_s3_client()
    rows = 0
    with S3StreamWriter(
        client,
        bucket=settings.reports_bucket,
        key=key,
        part_bytes=settings.report_part_bytes,
        content_type="text/csv",
    ) as out:
        out.write(_csv_line(COLUMNS))
        for page in _pages(ctx, status=request.status):
            out.write(b"".join(_csv_line(_cells(row)) for row in page))
            rows += len(page)
    expires_at = datetime.now(UTC) + timedelta(seconds=settings.report_url_ttl_seconds)
    url = client.generate_presigned_url(
        "get_object",
        Params={
            "Bucket": settings.reports_bucket,
            "Key": key,
            "ResponseContentDisposition": f'attachment; filename="projects-{ctx.job_id}.csv"',
        },
        ExpiresIn=settings.report_url_ttl_seconds,
    )
    return {
        "url": url,
        "expires_at": expires_at.isoformat(),
        "bucket": settings.reports_bucket,
        "key": key,
        "rows": rows,
        "bytes": out.bytes_written,
    }


def _pages(ctx: JobContext, *, status: str | None) -> Iterator[list[DictRow]]:
    after: tuple[datetime, Any] | None = None
    with replica_reads(ctx.tenant, database=ctx.database) as (conn, source):
        logger.info(
            "report reads",
            extra={"endpoint": source.endpoint, "why": source.reason, "lag_s": source.lag_seconds},
        )
        while True:
            page = repo.projects_page(conn, status=status, after=after, limit=ctx.settings.report_page_rows)
            if not page:
                return
            yield page
            after = (page[-1]["created_at"], page[-1]["id"])


def _cells(row: dict[str, Any]) -> tuple[str, ...]:
    return (
        str(row["id"]),
        safe_cell(row["name"]),
        safe_cell(row["description"]),
        row["status"],
        row["created_at"].isoformat(),
        row["updated_at"].isoformat(),
    )


def _csv_line(cells: tuple[str, ...]) -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerow(cells)
    return text.getvalue().encode()
