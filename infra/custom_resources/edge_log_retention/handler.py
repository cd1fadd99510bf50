"""CloudFormation custom resource (Lambda-backed, stdlib + the runtime's boto3): give the log groups
Lambda@Edge writes in every region (`/aws/lambda/us-east-1.<function>`) a retention period. Lambda creates
them on first use without one, so they would never expire; creating them first with retention (or
setting it on the ones that exist) bounds them. Deleting the resource leaves the groups to expire."""

from __future__ import annotations

import contextlib
import json
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

import boto3

EDGE_HOME_REGION = "us-east-1"
RESPONSE_TIMEOUT_SECONDS = 10


def log_group_name(function_name: str) -> str:
    return f"/aws/lambda/{EDGE_HOME_REGION}.{function_name}"


def apply_retention(
    *, regions: list[str], function_names: list[str], days: int, client: Callable[[str], Any]
) -> list[str]:
    """Create (or keep) each group with `days` of retention; returns the groups touched, region-qualified."""
    touched = []
    for region in regions:
        logs = client(region)
        for name in function_names:
            group = log_group_name(name)
            # Lambda@Edge may have written there already: then only the retention is ours to set.
            with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
                logs.create_log_group(logGroupName=group)
            logs.put_retention_policy(logGroupName=group, retentionInDays=days)
            touched.append(f"{region}:{group}")
    return touched


def _respond(event: Mapping[str, Any], status: str, reason: str, data: Mapping[str, Any]) -> None:
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason[:1000],
            "PhysicalResourceId": event.get("PhysicalResourceId") or event["LogicalResourceId"],
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": dict(data),
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - CloudFormation's pre-signed https URL
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(request, timeout=RESPONSE_TIMEOUT_SECONDS):  # noqa: S310
        pass


def handler(event: Mapping[str, Any], context: object) -> None:
    try:
        touched: list[str] = []
        if event["RequestType"] in ("Create", "Update"):
            properties = event["ResourceProperties"]
            touched = apply_retention(
                regions=list(properties["Regions"]),
                function_names=list(properties["FunctionNames"]),
                days=int(properties["RetentionDays"]),
                client=lambda region: boto3.client("logs", region_name=region),
            )
        _respond(event, "SUCCESS", f"retention set on {len(touched)} log groups", {"Count": len(touched)})
    except Exception as error:  # CloudFormation must hear about any failure, or it waits an hour
        _respond(event, "FAILED", f"{type(error).__name__}: {error}", {})
