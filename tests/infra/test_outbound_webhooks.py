"""Outbound webhooks in the synthesized service stack: the secrets key (rotating, encrypt for the API only,
decrypt for the delivery worker only), the delivery queue and its consumer."""

from __future__ import annotations

from typing import Any

from tests.infra.conftest import Assembly


def _function_roles(template: dict[str, Any]) -> dict[str, str]:
    """handler → the logical id of its role."""
    return {
        resource["Properties"]["Handler"]: resource["Properties"]["Role"]["Fn::GetAtt"][0]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function" and "Handler" in resource["Properties"]
    }


def _kms_actions_on(template: dict[str, Any], key_id: str) -> dict[str, set[str]]:
    """role logical id → KMS actions its policies allow on the key."""
    granted: dict[str, set[str]] = {}
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            targets = (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            )
            if any(isinstance(t, dict) and t.get("Fn::GetAtt", [None])[0] == key_id for t in targets):
                actions = (
                    statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                )
                for role in resource["Properties"]["Roles"]:
                    granted.setdefault(role["Ref"], set()).update(actions)
    return granted


def test_the_secrets_key_encrypts_for_the_api_and_decrypts_for_the_worker_only(assembly: Assembly) -> None:
    template = assembly.template("service")
    [key_id] = [
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::KMS::Key" and "webhook" in resource["Properties"]["Description"]
    ]
    assert template["Resources"][key_id]["Properties"]["EnableKeyRotation"] is True
    roles = _function_roles(template)
    granted = _kms_actions_on(template, key_id)
    assert granted[roles["api.main.handler"]] == {"kms:Encrypt"}
    assert granted[roles["jobs.webhook_worker.handler"]] == {"kms:Decrypt"}
    assert set(granted) == {roles["api.main.handler"], roles["jobs.webhook_worker.handler"]}


def test_the_delivery_worker_consumes_the_delivery_queue_with_partial_failures(assembly: Assembly) -> None:
    template = assembly.template("service")
    resources = template["Resources"]
    worker = next(
        r
        for r in resources.values()
        if r.get("Properties", {}).get("Handler") == "jobs.webhook_worker.handler"
    )
    queue_url = worker["Properties"]["Environment"]["Variables"]["WEBHOOK_DELIVERY_QUEUE_URL"]["Ref"]
    [mapping] = [
        m
        for m in assembly.resources("service", "AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"]["Fn::GetAtt"][0] == queue_url
    ]
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = resources[queue_url]["Properties"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 5
    assert queue["VisibilityTimeout"] >= 6 * worker["Properties"]["Timeout"]
    assert "VpcConfig" in worker["Properties"]  # reaches PostgreSQL; the internet through the VPC's NAT
