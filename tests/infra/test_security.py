"""Least privilege and encryption at rest across every synthesized template."""

from __future__ import annotations

from typing import Any

from tests.infra.conftest import Assembly

# Actions AWS offers no resource-level permission for (X-Ray, VPC ENIs for Lambda, and CDK's own
# custom-resource providers' well-known needs).
RESOURCE_STAR_ALLOWED = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
}


def _statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Policy":
            found += properties["PolicyDocument"]["Statement"]
        if resource["Type"] == "AWS::IAM::Role":
            for policy in properties.get("Policies", []):
                found += policy["PolicyDocument"]["Statement"]
    return found


def _listify(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_no_wildcard_actions_anywhere(assembly: Assembly) -> None:
    for name, template in assembly.templates.items():
        for statement in _statements(template):
            for action in _listify(statement["Action"]):
                assert action != "*", name
                assert not action.endswith(":*"), f"{name}: {action}"


def test_resource_star_only_for_actions_without_resource_scoping(assembly: Assembly) -> None:
    for name, template in assembly.templates.items():
        for statement in _statements(template):
            if statement["Effect"] == "Allow" and "*" in _listify(statement.get("Resource")):
                actions = set(_listify(statement["Action"]))
                assert actions <= RESOURCE_STAR_ALLOWED, f"{name}: {sorted(actions - RESOURCE_STAR_ALLOWED)}"


def test_buckets_are_private_encrypted_and_tls_only(assembly: Assembly) -> None:
    buckets = assembly.resources("service", "AWS::S3::Bucket")
    assert len(buckets) == 3  # access logs, reports, audit logs
    for bucket in buckets.values():
        properties = bucket["Properties"]
        assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert properties["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert properties["LifecycleConfiguration"]["Rules"]
    denied = {
        policy["Properties"]["Bucket"]["Ref"]
        for policy in assembly.resources("service", "AWS::S3::BucketPolicy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Deny"
        and statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
    }
    assert denied == set(buckets)


def test_topics_secrets_and_logs_are_encrypted_or_retained(assembly: Assembly) -> None:
    for topic in assembly.resources("service", "AWS::SNS::Topic").values():
        assert "KmsMasterKeyId" in topic["Properties"]
    for group in assembly.resources("service", "AWS::Logs::LogGroup").values():
        assert group["Properties"]["RetentionInDays"] > 0
    for key in assembly.resources("service", "AWS::KMS::Key").values():
        properties = key["Properties"]
        assert properties.get("EnableKeyRotation") or properties.get("KeySpec") == "RSA_2048"


def test_functions_get_only_the_s3_actions_reports_need(assembly: Assembly) -> None:
    s3_actions = {
        action
        for statement in _statements(assembly.template("service"))
        for action in _listify(statement["Action"])
        if action.startswith("s3:") and statement["Effect"] == "Allow"
    }
    # Excludes CDK's own auto-delete provider, which is granted through its bucket policy, not a role.
    assert s3_actions == {"s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"}


def test_the_api_may_only_read_tenant_exports(assembly: Assembly) -> None:
    """The API presigns export downloads, so it holds s3:GetObject under exports/ and no other S3 right."""
    template = assembly.template("service")
    exports = [
        statement
        for statement in _statements(template)
        if any("/exports/*" in str(resource) for resource in _listify(statement.get("Resource")))
    ]
    assert [_listify(statement["Action"]) for statement in exports] == [["s3:GetObject"]]
    api_policies = [
        resource
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::IAM::Policy"
        and exports[0] in resource["Properties"]["PolicyDocument"]["Statement"]
    ]
    roles = [str(role) for policy in api_policies for role in policy["Properties"]["Roles"]]
    assert len(roles) == 1
    assert "Api" in roles[0]


def test_the_erasure_receipt_key_is_retained_and_read_by_the_jobs_worker_alone(assembly: Assembly) -> None:
    template = assembly.template("service")
    [(logical_id, secret)] = [
        (key, resource)
        for key, resource in template["Resources"].items()
        if resource["Type"] == "AWS::SecretsManager::Secret"
        and "erasure receipts" in resource["Properties"].get("Description", "")
    ]
    assert secret["DeletionPolicy"] == "Retain"
    readers = [
        policy["Properties"]["Roles"]
        for policy in template["Resources"].values()
        if policy["Type"] == "AWS::IAM::Policy"
        and any(
            logical_id in str(statement.get("Resource"))
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        )
    ]
    assert len(readers) == 1
    assert "Worker" in str(readers[0])


def test_the_audit_log_bucket_is_object_locked_and_written_by_the_worker_alone(assembly: Assembly) -> None:
    template = assembly.template("service")
    [(logical_id, bucket)] = [
        (key, resource)
        for key, resource in template["Resources"].items()
        if resource["Type"] == "AWS::S3::Bucket" and "ObjectLockConfiguration" in resource["Properties"]
    ]
    properties = bucket["Properties"]
    assert properties["ObjectLockEnabled"] is True
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    assert properties["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 365}},
    }
    assert bucket["DeletionPolicy"] == "Retain"
    statements = [
        (policy["Properties"]["Roles"], statement)
        for policy in template["Resources"].values()
        if policy["Type"] == "AWS::IAM::Policy"
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if logical_id in str(statement.get("Resource"))
    ]
    assert len(statements) == 1
    roles, statement = statements[0]
    assert "Worker" in str(roles)
    assert sorted(_listify(statement["Action"])) == [
        "s3:AbortMultipartUpload",
        "s3:GetObject",
        "s3:PutObject",
    ]
    assert "/audit-logs/*" in str(statement["Resource"])


def test_prod_locks_the_audit_log_in_compliance_mode(prod_assembly: Assembly) -> None:
    [bucket] = [
        resource
        for resource in prod_assembly.resources("service", "AWS::S3::Bucket").values()
        if "ObjectLockConfiguration" in resource["Properties"]
    ]
    retention = bucket["Properties"]["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
    assert retention == {"Mode": "COMPLIANCE", "Days": 400}
