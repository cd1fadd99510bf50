"""The edge log-retention custom resource against moto's CloudWatch Logs in several regions, answering
CloudFormation's pre-signed URL (a real HTTP server on the loopback)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.custom_resources.edge_log_retention import handler

REGIONS = ["us-east-1", "eu-west-1", "ap-northeast-1"]


@pytest.fixture
def cloudformation_url() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/response", received
    finally:
        server.shutdown()
        thread.join(timeout=5)


def _event(url: str, request_type: str, **properties: object) -> dict[str, Any]:
    return {
        "RequestType": request_type,
        "ResponseURL": url,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/saas-dev-edge/1",
        "RequestId": "request-1",
        "LogicalResourceId": "EdgeLogRetention",
        "ResourceProperties": {
            "Regions": REGIONS,
            "FunctionNames": ["viewer-request-fn", "origin-request-fn"],
            "RetentionDays": 14,
            **properties,
        },
    }


@mock_aws
def test_every_regional_edge_log_group_gets_the_retention(
    cloudformation_url: tuple[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    url, received = cloudformation_url
    existing = boto3.client("logs", region_name="eu-west-1")
    existing.create_log_group(
        logGroupName="/aws/lambda/us-east-1.viewer-request-fn"
    )  # Lambda@Edge wrote first

    handler.handler(_event(url, "Create"), None)

    assert [r["Status"] for r in received] == ["SUCCESS"]
    assert received[0]["Data"] == {"Count": 6}
    for region in REGIONS:
        groups = boto3.client("logs", region_name=region).describe_log_groups(
            logGroupNamePrefix="/aws/lambda/"
        )
        retention = {g["logGroupName"]: g.get("retentionInDays") for g in groups["logGroups"]}
        assert retention == {
            "/aws/lambda/us-east-1.viewer-request-fn": 14,
            "/aws/lambda/us-east-1.origin-request-fn": 14,
        }


@mock_aws
def test_an_update_changes_the_retention_and_a_delete_leaves_the_groups(
    cloudformation_url: tuple[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    url, received = cloudformation_url
    handler.handler(_event(url, "Create"), None)
    handler.handler(_event(url, "Update", RetentionDays=30), None)
    handler.handler(_event(url, "Delete"), None)

    assert [r["Status"] for r in received] == ["SUCCESS"] * 3
    groups = boto3.client("logs", region_name="ap-northeast-1").describe_log_groups()["logGroups"]
    assert {g["retentionInDays"] for g in groups} == {30}


@mock_aws
def test_a_failure_is_reported_to_cloudformation_not_left_hanging(
    cloudformation_url: tuple[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    url, received = cloudformation_url
    event = _event(url, "Create")
    del event["ResourceProperties"]["Regions"]  # a template that lost a property
    handler.handler(event, None)

    (response,) = received
    assert response["Status"] == "FAILED"
    assert response["Reason"] == "KeyError: 'Regions'"
    assert response["PhysicalResourceId"] == "EdgeLogRetention"
