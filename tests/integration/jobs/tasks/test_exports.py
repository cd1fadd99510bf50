"""`tenant_export` against a moto S3 server process: a multipart archive that verifies, one e-mail and one
`export.ready` event per export."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
import zipfile

import boto3
import pytest

from jobs.context import JobContext
from jobs.exceptions import PermanentJobError
from jobs.runner import _execute, default_resolver
from jobs.settings import get_settings
from jobs.tasks.exports import tenant_export

ROWS = 60_000  # ~6 MiB of zip: two multipart parts of 5 MiB


def context(tenant, database, payload):
    return JobContext(
        job_id=uuid.uuid4(),
        job_type="tenant_export",
        tenant_id=tenant,
        payload=payload,
        attempt=1,
        settings=get_settings(),
        database=database,
    )


def seed(owner_sql, tenant, rows):
    owner_sql(
        tenant,
        "INSERT INTO projects (tenant_id, name, description) SELECT %s, 'P' || g,"
        " md5(g::text) || md5((g * 7)::text) || md5((g * 13)::text) FROM generate_series(1, %s) g",
        (tenant, rows),
    )


def emails(owner_sql, tenant):
    return owner_sql(
        tenant, "SELECT payload FROM jobs WHERE type = 'send_email' AND tenant_id = %s", (tenant,)
    )


@pytest.mark.slow
def test_a_large_export_is_a_multipart_archive_that_verifies(app_database, s3_bucket, make_tenant, owner_sql):
    tenant, other = make_tenant(), make_tenant()
    seed(owner_sql, tenant, ROWS)
    seed(owner_sql, other, 5)
    ctx = context(tenant, app_database, {"requested_by": str(uuid.uuid4())})
    result = tenant_export(ctx)

    s3 = boto3.client("s3")
    assert s3.head_object(Bucket=s3_bucket, Key=result["key"], PartNumber=1)["PartsCount"] >= 2
    body = s3.get_object(Bucket=s3_bucket, Key=result["key"])["Body"].read()
    assert len(body) == result["bytes"]
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        for entry in manifest["tables"]:
            assert hashlib.sha256(archive.read(entry["member"])).hexdigest() == entry["sha256"]
    assert result["rows"]["projects"] == ROWS  # the other tenant's five are not in it
    assert result["rows"]["tenants"] == 1
    # The requester is no member of the tenant: nobody is mailed.
    assert result["notified"] is False
    assert emails(owner_sql, tenant) == []


def test_a_retried_export_overwrites_its_object_and_mails_once(
    app_database, s3_bucket, make_tenant, owner_sql
):
    tenant = make_tenant()
    user = owner_sql(
        None,
        "INSERT INTO users (idp_issuer, idp_subject, email) VALUES ('iss', %s, 'owner@x.example') RETURNING id",
        (str(uuid.uuid4()),),
    )[0]["id"]
    role = owner_sql(
        tenant,
        "INSERT INTO roles (tenant_id, key, name) VALUES (%s, 'owner', 'Owner') RETURNING id",
        (tenant,),
    )[0]["id"]
    owner_sql(
        tenant,
        "INSERT INTO memberships (tenant_id, user_id, role_id, status) VALUES (%s, %s, %s, 'active')",
        (tenant, user, role),
    )
    owner_sql(
        tenant,
        "INSERT INTO webhook_endpoints (tenant_id, url, event_types) VALUES (%s, %s, %s)",
        (tenant, "https://hooks.example.com/exports", ["export.ready"]),
    )
    ctx = context(tenant, app_database, {"requested_by": str(user)})
    first, second = tenant_export(ctx), tenant_export(ctx)
    assert first["key"] == second["key"]
    assert first["notified"] is True
    [mail] = emails(owner_sql, tenant)
    assert mail["payload"] == {
        "template": "export_ready",
        "to": ["owner@x.example"],
        "data": {"export_id": str(ctx.job_id)},
    }
    # One fact per export, however often the job runs, and one delivery of it to the subscribed endpoint.
    [event] = owner_sql(tenant, "SELECT id, type, version, actor_type, data FROM events")
    assert (event["type"], event["version"], event["actor_type"]) == ("export.ready", 1, "system")
    assert event["data"] == {
        "export": {
            "id": str(ctx.job_id),
            "requested_by": str(user),
            "bytes": first["bytes"],
            "rows": first["rows"],
            "format_version": first["format_version"],
            "schema_version": first["schema_version"],
        }
    }
    [dispatch] = owner_sql(tenant, "SELECT payload FROM jobs WHERE type = 'dispatch_event'")
    assert dispatch["payload"] == {"event_id": str(event["id"])}


def test_an_unknown_payload_is_a_permanent_error(app_database, s3_bucket, make_tenant):
    with pytest.raises(PermanentJobError):
        _execute(context(make_tenant(), app_database, {"requested_by": "nobody"}), default_resolver)
