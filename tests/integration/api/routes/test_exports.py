"""/api/v1/exports through the real API app and the real jobs runner: S3, SQS and SES in moto."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

from api.services import exports as export_service
from jobs.clients import clear_clients
from jobs.runner import run_message
from jobs.settings import get_settings as get_jobs_settings
from saascore.jobs.model import JobMessage

BUCKET = "exports-test"


@pytest.fixture
def bucket(queues, monkeypatch) -> Iterator[str]:
    monkeypatch.setenv("REPORTS_BUCKET", BUCKET)
    monkeypatch.setenv("EMAIL_SENDER", "noreply@saas.example")
    boto3.client("s3", region_name="eu-west-1").create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    for cached in (get_jobs_settings, export_service._s3_client, clear_clients):
        getattr(cached, "cache_clear", cached)()
    from api.settings import get_settings

    get_settings.cache_clear()
    yield BUCKET
    for cached in (get_jobs_settings, export_service._s3_client, clear_clients, get_settings):
        getattr(cached, "cache_clear", cached)()


def run_jobs(api, queues) -> list[dict[str, Any]]:
    """Play the worker for every queued message once; returns the bodies it ran."""
    ran = []
    for message in queues.receive(visibility=0):
        body = json.loads(message["Body"])
        run_message(
            JobMessage.model_validate(body),
            receive_count=1,
            settings=get_jobs_settings(),
            database=api.database,
        )
        ran.append(body)
    return ran


def test_an_owner_exports_the_tenant_and_downloads_a_verified_archive(api, queues, owner, bucket):
    api.client.post("/api/v1/projects", json={"name": "Exported"}, headers=owner.headers)
    requested = api.client.post("/api/v1/exports", headers={**owner.headers, "Idempotency-Key": "export-1"})
    assert requested.status_code == 202, requested.text
    export = requested.json()
    assert requested.headers["location"] == f"/api/v1/exports/{export['id']}"
    assert (export["status"], export["download_url"]) == ("queued", None)
    replay = api.client.post("/api/v1/exports", headers={**owner.headers, "Idempotency-Key": "export-1"})
    assert replay.json()["id"] == export["id"]

    [ran] = run_jobs(api, queues)
    assert ran["type"] == "tenant_export"
    got = api.client.get(f"/api/v1/exports/{export['id']}", headers=owner.headers)
    assert got.status_code == 200
    done = got.json()
    assert done["status"] == "succeeded"
    assert done["rows"]["projects"] == 1
    url = urlsplit(done["download_url"])
    assert url.path == f"/exports/{owner.tenant_id}/{export['id']}.zip"
    assert parse_qs(url.query)["X-Amz-Expires"] == ["300"]

    archive_bytes = (
        boto3.client("s3", region_name="eu-west-1")
        .get_object(Bucket=BUCKET, Key=f"exports/{owner.tenant_id}/{export['id']}.zip")["Body"]
        .read()
    )
    assert len(archive_bytes) == done["bytes"]
    with zipfile.ZipFile(io.BytesIO(archive_bytes)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        assert manifest["tenant_id"] == str(owner.tenant_id)
        for entry in manifest["tables"]:
            assert hashlib.sha256(archive.read(entry["member"])).hexdigest() == entry["sha256"]
        assert b"Exported" in archive.read("tables/projects.jsonl")

    # The owner is told by e-mail, once (the job's dedup key), and the request is in the audit log.
    [email] = [b for b in run_jobs(api, queues) if b["type"] == "send_email"]
    assert email["payload"]["template"] == "export_ready"
    assert email["payload"]["to"] == [owner.email]
    assert api.owner_sql(
        owner.tenant_id,
        "SELECT count(*) FROM audit_logs WHERE action = 'export.requested' AND tenant_id = %s",
        (owner.tenant_id,),
    ) == [(1,)]


def test_exports_are_the_owners_and_the_tenants_own(api, queues, owner, bucket):
    admin = api.join(owner, "admin")
    refused = api.client.post("/api/v1/exports", headers=admin.headers)
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("/permission-denied")
    export_id = api.client.post("/api/v1/exports", headers=owner.headers).json()["id"]
    stranger = api.sign_up()
    assert api.client.get(f"/api/v1/exports/{export_id}", headers=stranger.headers).status_code == 404
    assert api.client.get(f"/api/v1/exports/{uuid.uuid4()}", headers=owner.headers).status_code == 404
    # A job of another type is not an export.
    report_id = api.client.post("/api/v1/reports", json={}, headers=owner.headers).json()["id"]
    assert api.client.get(f"/api/v1/exports/{report_id}", headers=owner.headers).status_code == 404
    assert api.client.get("/api/v1/exports/not-a-uuid", headers=owner.headers).status_code == 422


def test_an_offboarding_tenant_can_still_take_its_data(api, queues, owner, bucket):
    api.owner_sql(
        owner.tenant_id,
        "UPDATE tenants SET lifecycle_state = 'offboarding', erase_after = now() + interval '30 days'"
        " WHERE id = %s",
        (owner.tenant_id,),
    )
    assert api.client.post("/api/v1/projects", json={"name": "x"}, headers=owner.headers).status_code == 403
    assert api.client.post("/api/v1/exports", headers=owner.headers).status_code == 202
