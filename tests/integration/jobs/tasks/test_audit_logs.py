"""`export_audit_log` against a moto S3 server with an Object Lock bucket: the previous UTC day of one tenant's
audit log as JSON Lines at `audit-logs/<tenant>/<YYYY>/<MM>/<DD>.jsonl`, the export's line format, written
once (a re-run skips the present key and leaves one version), streamed in bounded memory."""

from __future__ import annotations

import tracemalloc
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from jobs.context import JobContext
from jobs.exceptions import PermanentJobError
from jobs.registry import SCHEDULES, spec_for
from jobs.settings import get_settings
from jobs.tasks.audit_logs import export_audit_log
from saascore.archive.audit_format import audit_line
from saascore.db.tenancy import tenant_transaction


@pytest.fixture
def audit_bucket(s3_bucket: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An Object Lock bucket (versioned, governance retention) as the audit-log bucket."""
    bucket = f"audit-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client("s3", region_name="eu-west-1")
    s3.create_bucket(
        Bucket=bucket,
        CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
        ObjectLockEnabledForBucket=True,
    )
    s3.put_object_lock_configuration(
        Bucket=bucket,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}},
        },
    )
    monkeypatch.setenv("AUDIT_LOG_BUCKET", bucket)
    get_settings.cache_clear()
    yield bucket
    get_settings.cache_clear()


def context(tenant: uuid.UUID, database: Any, payload: dict[str, Any]) -> JobContext:
    return JobContext(
        job_id=uuid.uuid4(),
        job_type="export_audit_log",
        tenant_id=tenant,
        payload=payload,
        attempt=1,
        settings=get_settings(),
        database=database,
    )


def seed(owner_sql: Any, tenant: uuid.UUID, count: int, *, at: datetime, pad: int = 0) -> None:
    owner_sql(
        tenant,
        "INSERT INTO audit_logs (tenant_id, actor_type, action, resource_type, resource_id, after, created_at)"
        " SELECT %s, 'system', 'test.entry', 'test', n::text, jsonb_build_object('pad', repeat('x', %s)),"
        " %s + n * interval '1 millisecond' FROM generate_series(0, %s - 1) AS n",
        (tenant, pad, at, count),
    )


def _body(bucket: str, key: str) -> bytes:
    return boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


def _versions(bucket: str, key: str) -> int:
    listed = boto3.client("s3").list_object_versions(Bucket=bucket, Prefix=key)
    return len(listed.get("Versions", []))


def test_yesterday_is_written_once_in_the_export_line_format(
    app_database, audit_bucket, make_tenant, owner_sql
):
    tenant, other = make_tenant(), make_tenant()
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    start = datetime(yesterday.year, yesterday.month, yesterday.day, tzinfo=UTC)
    seed(owner_sql, tenant, 3, at=start - timedelta(milliseconds=2))  # two the day before, one yesterday
    seed(owner_sql, tenant, 2, at=start + timedelta(days=1) - timedelta(milliseconds=1))  # one today
    seed(owner_sql, other, 4, at=start + timedelta(hours=1))

    result = export_audit_log(context(tenant, app_database, {}))
    key = f"audit-logs/{tenant}/{yesterday:%Y/%m/%d}.jsonl"
    assert result == {"key": key, "written": True, "entries": 2, "bytes": result["bytes"]}
    body = _body(audit_bucket, key)
    with tenant_transaction(tenant, database=app_database) as conn:
        rows = conn.execute(
            "SELECT id, tenant_id, created_at, actor_type, actor_user_id, actor_api_key_id, action,"
            " resource_type, resource_id, before, after, request_id, host(ip) AS ip, user_agent"
            " FROM audit_logs WHERE created_at >= %s AND created_at < %s ORDER BY created_at, id",
            (start, start + timedelta(days=1)),
        ).fetchall()
    assert body == b"".join(audit_line(row) for row in rows)
    assert [row["resource_id"] for row in rows] == ["2", "0"]
    head = boto3.client("s3").head_object(Bucket=audit_bucket, Key=key)
    assert head["ContentType"] == "application/x-ndjson"
    assert head["ObjectLockMode"] == "GOVERNANCE"

    again = export_audit_log(context(tenant, app_database, {}))
    assert again == {"key": key, "written": False}
    assert _versions(audit_bucket, key) == 1
    assert _body(audit_bucket, key) == body


def test_a_day_without_entries_is_an_empty_file_and_a_backfill_names_its_day(
    app_database, audit_bucket, make_tenant, owner_sql
):
    tenant = make_tenant()
    seed(owner_sql, tenant, 5, at=datetime(2026, 11, 2, 12, tzinfo=UTC))
    written = export_audit_log(context(tenant, app_database, {"day": "2026-11-02"}))
    assert (written["key"], written["entries"]) == (f"audit-logs/{tenant}/2026/11/02.jsonl", 5)
    empty = export_audit_log(context(tenant, app_database, {"day": "2026-11-01"}))
    assert empty["entries"] == 0
    assert _body(audit_bucket, empty["key"]) == b""


@pytest.mark.parametrize("payload", [{"day": "2999-01-01"}, {"day": "today"}, {"days": "2026-11-02"}])
def test_a_day_that_has_not_ended_or_a_bad_payload_is_refused(
    app_database, audit_bucket, make_tenant, payload
):
    tenant = make_tenant()
    if payload == {"day": "2999-01-01"}:
        with pytest.raises(PermanentJobError, match="has not ended"):
            export_audit_log(context(tenant, app_database, payload))
    else:
        with pytest.raises(ValueError, match="validation error"):
            export_audit_log(context(tenant, app_database, payload))


def test_it_is_scheduled_daily_per_tenant():
    spec = spec_for("export_audit_log")
    assert spec is not None
    assert spec.scope == "tenant"
    assert [s.expression for s in SCHEDULES if s.job_type == "export_audit_log"] == ["cron(30 0 * * ? *)"]


@pytest.mark.slow
def test_a_large_day_streams_in_bounded_memory(app_database, audit_bucket, make_tenant, owner_sql):
    tenant = make_tenant()
    seed(owner_sql, tenant, 30_000, at=datetime(2026, 11, 2, tzinfo=UTC), pad=300)  # ~12 MiB: multipart
    tracemalloc.start()
    try:
        result = export_audit_log(context(tenant, app_database, {"day": "2026-11-02"}))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result["entries"] == 30_000
    assert result["bytes"] > 10 * 1024 * 1024
    assert peak < 3 * 5 * 1024 * 1024  # about one 5 MiB part, not the file
    assert len(_body(audit_bucket, result["key"]).splitlines()) == 30_000
