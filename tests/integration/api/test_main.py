from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from api.main import handler
from tests.integration.api.events import http_event


@pytest.mark.parametrize("sample", ["function_url_iam.json", "http_api_v2.json"])
def test_lambda_entry_serves_function_url_and_http_api_events(api, lambda_context, sample):
    owner = api.sign_up()
    created = handler(
        http_event(
            "POST", "/api/v1/projects", headers=owner.headers, body={"name": "via lambda"}, sample=sample
        ),
        lambda_context,
    )
    assert created["statusCode"] == 201, created
    assert created["headers"]["etag"] == '"v1"'
    listed = handler(
        http_event("GET", "/api/v1/projects", query="limit=5", headers=owner.headers, sample=sample),
        lambda_context,
    )
    assert listed["statusCode"] == 200
    assert [item["name"] for item in json.loads(listed["body"])["items"]] == ["via lambda"]
    audit = api.client.get("/api/v1/audit-logs?action=project.created", headers=owner.headers).json()
    assert audit["items"][0]["ip"] == "198.51.100.7"


def test_the_audit_log_export_leaves_the_lambda_as_text_json_lines(api, lambda_context):
    owner = api.sign_up()
    since = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    response = handler(
        http_event("GET", "/api/v1/audit-logs/export", query=f"since={since}", headers=owner.headers),
        lambda_context,
    )
    assert response["statusCode"] == 200, response["body"]
    assert response["headers"]["content-type"] == "application/x-ndjson"
    assert response["isBase64Encoded"] is False
    actions = [json.loads(line)["action"] for line in response["body"].splitlines()]
    assert "tenant.created" in actions


def test_lambda_entry_answers_problems_without_identity(api, lambda_context):
    response = handler(http_event("GET", "/api/v1/me"), lambda_context)
    assert response["statusCode"] == 401
    assert response["headers"]["content-type"] == "application/problem+json"
    assert json.loads(response["body"])["status"] == 401


def test_importing_the_handler_stays_lean():
    """Cold start: no AWS SDK or X-Ray SDK at import unless tracing is switched on."""
    import subprocess
    import sys

    probe = "import sys, api.main; print(sorted(m for m in ('boto3', 'botocore.session', 'aws_xray_sdk') if m in sys.modules))"
    lean = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert lean.stdout.strip() == "[]"
